using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Scheduler.Infrastructure.Http;

/// <summary>
/// Turns every exception that reaches the edge into a problem document. Client mistakes
/// (invalid input, malformed JSON, oversized bodies) become 4xx with the failing field named;
/// only genuine server faults become 500, and those never echo internals to the client.
/// </summary>
internal sealed partial class GlobalExceptionHandler(ILogger<GlobalExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Map(exception);
        if (problem.Status >= 500)
            logger.LogError(exception, "Unhandled exception for {Method} {Path}", context.Request.Method, context.Request.Path);
        else
            logger.LogDebug(exception, "Request rejected with {Status}", problem.Status);

        await Problems.WriteAsync(context, problem, exception);
        return true;
    }

    internal static ProblemDetails Map(Exception exception) => exception switch
    {
        ValidationException validation => Validation(validation),
        BadHttpRequestException bad => FromBadRequest(bad),
        JsonException json => Json(json),
        _ when UniqueViolation(exception) => new ProblemDetails
        {
            Status = 409,
            Title = "Conflict",
            Detail = "A concurrent request created or changed the same object first; read it again and retry if still needed.",
            Type = Problems.TypeBase + "conflict",
        },
        OperationCanceledException => new ProblemDetails { Status = 499, Title = "Client closed request", Type = Problems.TypeFor(499) },
        _ => new ProblemDetails
        {
            Status = 500,
            Title = "Internal server error",
            Detail = "The server failed to handle the request; the error was logged.",
            Type = Problems.TypeFor(500),
        },
    };

    /// <summary>
    /// A unique key refused a write: two requests raced to create the same name (the loser of
    /// a check-then-insert), which is a conflict with state, not a server fault. Handlers that
    /// expect a duplicate still answer it themselves with a better message.
    /// </summary>
    private static bool UniqueViolation(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
            if (e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
                return true;
        return false;
    }

    private static ProblemDetails Validation(ValidationException exception)
    {
        var errors = exception.Errors
            .GroupBy(e => string.IsNullOrEmpty(e.PropertyName) ? "$" : e.PropertyName)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray());
        return new HttpValidationProblemDetails(errors)
        {
            Status = 400,
            Title = "Validation failed",
            Detail = errors.Count == 1 && errors.First().Value.Length == 1
                ? $"{errors.First().Key}: {errors.First().Value[0]}"
                : $"{exception.Errors.Count()} validation errors; see 'errors'.",
            Type = Problems.TypeBase + "validation",
        };
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException exception)
    {
        if (FindJsonException(exception) is { } json)
            return Json(json);
        var status = exception.StatusCode is >= 400 and < 500 ? exception.StatusCode : 400;
        if (status == 413)
            return new ProblemDetails { Status = 413, Title = "Payload too large", Detail = $"The request body exceeds the server's limit of {HttpSetup.MaxRequestBodyBytes / (1024 * 1024)} MiB.", Type = Problems.TypeFor(413) };
        if (BindFailure().Match(exception.Message) is { Success: true } bind)
        {
            var field = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(bind.Groups["name"].Value);
            var message = $"'{bind.Groups["value"].Value}' is not {JsonPaths.Expected(bind.Groups["type"].Value)}.";
            return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
            {
                Status = 400, Title = "Validation failed", Detail = $"{field}: {message}", Type = Problems.TypeBase + "validation",
            };
        }
        var detail = exception.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal)
            || exception.Message.StartsWith("Required parameter", StringComparison.Ordinal)
            ? "A JSON body is required."
            : exception.Message;
        return new ProblemDetails { Status = status, Title = "Bad request", Detail = detail, Type = Problems.TypeFor(status) };
    }

    [System.Text.RegularExpressions.GeneratedRegex("^Failed to bind parameter \"(?<type>.+) (?<name>[A-Za-z0-9_]+)\" from \"(?<value>.*)\"\\.$")]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    private static JsonException? FindJsonException(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
            if (e is JsonException json)
                return json;
        return null;
    }

    private static ProblemDetails Json(JsonException exception)
    {
        var path = JsonPaths.ToFieldPath(exception.Path);
        var message = JsonPaths.Describe(exception);
        // The reader's own exceptions (a subclass) mean the text is not JSON at all.
        var syntax = exception.GetType() != typeof(JsonException) || exception.InnerException is JsonException;
        if (path is null || syntax)
            return new ProblemDetails
            {
                Status = 400,
                Title = "Malformed JSON",
                Detail = syntax ? message : "The request body must be a JSON object.",
                Type = Problems.TypeBase + "malformed-json",
            };
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [path] = [message] })
        {
            Status = 400,
            Title = "Validation failed",
            Detail = $"{path}: {message}",
            Type = Problems.TypeBase + "validation",
        };
    }
}
