using Microsoft.OpenApi;
using Scheduler.Modules.Access;

namespace Scheduler.Infrastructure.OpenApi;

internal static class OpenApiSetup
{
    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Scheduler API",
                Version = "v1",
                Description = "DAG workflow scheduler. Authenticate with the X-Api-Key header (or Authorization: Bearer with the same key); errors are RFC 9457 problem documents.",
            });
            options.AddSecurityDefinition(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "An API key (viewer, operator or admin).",
            });
            options.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [],
            });
            options.SupportNonNullableReferenceTypes();
            options.CustomSchemaIds(new SchemaNames().For);
            JsonShapes.Map(options);
            options.OperationFilter<ExamplesFilter>();
            options.OperationFilter<TextResponses>();
        });
        return services;
    }

    public static void UseOpenApiDocument(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/swagger/v1/swagger.json", "Scheduler API v1");
            options.RoutePrefix = "swagger";
            options.EnablePersistAuthorization();
        });
    }
}
