using System.Text.Json;
using Scheduler.Client.Api;

namespace Scheduler.Client;

/// <summary>Turns a problem document (RFC 9457) into a readable message: its detail, and its errors keyed by field.</summary>
public static class ProblemException
{
    public static SchedulerApiException From(HttpResponseMessage response, string body)
    {
        var headers = response.Headers.ToDictionary(h => h.Key, h => h.Value);
        return new SchedulerApiException(Describe((int)response.StatusCode, body), (int)response.StatusCode, body, headers, null);
    }

    /// <summary>"404: No DAG named 'x'." or "400: One or more validation errors occurred. tasks[0].id: ...".</summary>
    public static string Describe(int status, string? body)
    {
        var message = $"HTTP {status}";
        if (string.IsNullOrWhiteSpace(body))
            return message;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return $"{message}: {body}";
            var text = root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String ? detail.GetString()
                : root.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String ? title.GetString() : null;
            var parts = new List<string> { text is null ? message : $"{message}: {text}" };
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                foreach (var field in errors.EnumerateObject())
                    foreach (var error in field.Value.EnumerateArray())
                        parts.Add($"{field.Name}: {error}");
            return string.Join(Environment.NewLine, parts);
        }
        catch (JsonException)
        {
            return $"{message}: {body}";
        }
    }

    /// <summary>The message of any exception the client throws, for people.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        SchedulerApiException api => api.Message.StartsWith("HTTP ", StringComparison.Ordinal) ? api.Message : Describe(api.StatusCode, api.Response),
        HttpRequestException http => $"cannot reach the server: {http.Message}",
        _ => exception.Message,
    };
}
