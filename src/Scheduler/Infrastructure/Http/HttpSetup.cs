using Microsoft.AspNetCore.Http.Json;
using Scheduler.Infrastructure.Json;

namespace Scheduler.Infrastructure.Http;

internal static class HttpSetup
{
    /// <summary>Request bodies above this are refused with 413 before they are buffered.</summary>
    public const long MaxRequestBodyBytes = 16 * 1024 * 1024;

    public static IServiceCollection AddHttpConventions(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(options => JsonConventions.Apply(options.SerializerOptions));
        services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(options => JsonConventions.Apply(options.JsonSerializerOptions));
        // Binding failures (malformed JSON, a wrong type, a bad query value) become exceptions
        // so that GlobalExceptionHandler answers them as problem documents naming the field.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Type ??= Problems.TypeFor(problem.Status ?? 500);
            if (problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
                problem.Type = Problems.TypeFor(problem.Status ?? 500);
            problem.Instance ??= context.HttpContext.Request.Path;
        });
        services.AddExceptionHandler<GlobalExceptionHandler>();
        return services;
    }

    /// <summary>After authorization, so a caller without access learns 401/403 before anything about its input.</summary>
    public static IApplicationBuilder UseStorableInput(this IApplicationBuilder app) => app.UseMiddleware<StorableInput>();
}
