using FluentValidation;
using Mediator;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Net;
using Scheduler.Infrastructure.Validation;
using Serilog;

namespace Scheduler.Infrastructure;

internal static class PlatformSetup
{
    /// <summary>
    /// The one appsettings.json lives at the repository root and is copied next to the
    /// binary; read it from there whatever the content root is (dotnet run uses the project
    /// folder). Precedence is unchanged: environment variables and arguments still win.
    /// </summary>
    public static void UseAppSettingsNextToBinary(this WebApplicationBuilder builder)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var sources = builder.Configuration.Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            if (File.Exists(path) && sources[i] is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path: "appsettings.json" })
            {
                sources[i] = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
                {
                    Path = "appsettings.json",
                    Optional = true,
                    FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
                };
                return;
            }
        }
    }

    public static IServiceCollection AddPlatform(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddDatabase(configuration);
        services.AddMediator(options =>
        {
            options.ServiceLifetime = ServiceLifetime.Scoped;
            options.GenerateTypesAsInternal = true;
            options.PipelineBehaviors = [typeof(ValidationBehavior<,>)];
        });
        services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Scoped, includeInternalTypes: true);
        services.AddHttpConventions();
        services.AddEgress(configuration);
        services.AddHttpHardening(configuration);
        services.AddRateLimits(configuration);
        return services;
    }

    public static void UsePlatform(this WebApplication app)
    {
        // Forwarded headers and security headers first: logs and limits see the real client.
        app.UseHttpHardening();
        // Request logging wraps the exception handler, so it records the status the client
        // got (a 400 problem document), not the exception on its way to becoming one.
        app.UseSerilogRequestLogging();
        app.UseExceptionHandler();
        app.UseProblemStatusCodePages();
        app.UseRateLimits();
    }
}
