using Microsoft.AspNetCore.Http.HttpResults;

namespace Scheduler.Infrastructure.Http;

/// <summary>RFC 9457 problem documents with a stable <c>type</c> URI per kind of error.</summary>
internal static class Problems
{
    public const string TypeBase = "https://scheduler.dev/problems/";

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found", type: TypeBase + "not-found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict", type: TypeBase + "conflict");

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request", type: TypeBase + "bad-request");

    /// <summary>429 with <c>Retry-After</c> in whole seconds (set on <paramref name="response"/>).</summary>
    public static ProblemHttpResult TooManyRequests(HttpResponse response, TimeSpan retryAfter, string detail)
    {
        response.Headers.RetryAfter = RateLimits.RetryAfterSeconds(retryAfter).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", type: TypeFor(429));
    }

    /// <summary>
    /// Writes a problem document with its status. The problem details service writes only for
    /// a client that accepts JSON; one that asked for text/html (a browser, a careless script)
    /// still gets the document, not an empty error or, from WriteAsync, an exception.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, Microsoft.AspNetCore.Mvc.ProblemDetails problem, Exception? exception = null)
    {
        context.Response.StatusCode = problem.Status ?? 500;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception }))
            return;
        problem.Instance ??= context.Request.Path;
        problem.Extensions["trace_id"] = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier;
        await TypedResults.Problem(problem).ExecuteAsync(context);
    }

    public static string TypeFor(int status) => status switch
    {
        400 => TypeBase + "bad-request",
        401 => TypeBase + "unauthorized",
        403 => TypeBase + "forbidden",
        404 => TypeBase + "not-found",
        405 => TypeBase + "method-not-allowed",
        409 => TypeBase + "conflict",
        413 => TypeBase + "payload-too-large",
        415 => TypeBase + "unsupported-media-type",
        429 => TypeBase + "too-many-requests",
        _ => TypeBase + (status >= 500 ? "server-error" : "client-error"),
    };
}
