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

    /// <summary>
    /// An error without a body (routing's 404/405/415, a handler's bare status) becomes a problem
    /// document under /api whatever the client accepts; the admin pages keep the plain default
    /// for a browser.
    /// </summary>
    public static IApplicationBuilder UseProblemStatusCodePages(this IApplicationBuilder app) => app.UseStatusCodePages(async context =>
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), Type = Problems.TypeFor(status) };
        if (http.Request.Path.StartsWithSegments("/api"))
        {
            await Problems.WriteAsync(http, problem);
            return;
        }
        var service = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem }))
        {
            http.Response.ContentType = "text/plain";
            await http.Response.WriteAsync($"Status Code: {status}; {problem.Title}");
        }
    });

    /// <summary>After authorization, so a caller without access learns 401/403 before anything about its input.</summary>
    public static IApplicationBuilder UseStorableInput(this IApplicationBuilder app) => app.UseMiddleware<StorableInput>();
}
