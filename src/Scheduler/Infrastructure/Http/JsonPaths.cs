using System.Text.Json;
using System.Text.RegularExpressions;

namespace Scheduler.Infrastructure.Http;

internal static partial class JsonPaths
{
    /// <summary><c>$.tasks[0].retries</c> becomes <c>tasks[0].retries</c>; the root gives null.</summary>
    public static string? ToFieldPath(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
            return null;
        var path = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
        // System.Text.Json writes unusual names as ['na me']; keep them readable but unambiguous.
        return path.Length == 0 ? null : path;
    }

    /// <summary>A message for people: what was wrong and where, without .NET type names.</summary>
    public static string Describe(JsonException exception)
    {
        var message = exception.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut >= 0)
            message = message[..cut];
        if (message.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
        {
            var type = message["The JSON value could not be converted to ".Length..].TrimEnd('.');
            return $"invalid value: expected {Expected(type)}";
        }
        if (message.Contains("duplicate", StringComparison.OrdinalIgnoreCase))
            return "duplicate property";
        message = TypeName().Replace(message, m => Expected(m.Value));
        return message + (exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})" : "");
    }

    /// <summary>What a .NET type name means to a client: "an integer", "an array", ...</summary>
    public static string Expected(string type)
    {
        type = type.Replace("System.Nullable`1[", "").Replace("Nullable<", "").TrimEnd(']', '>');
        return type switch
        {
            "System.Int32" or "int" => "an integer between -2147483648 and 2147483647",
            "System.Int64" or "long" => "an integer",
            "System.Boolean" or "bool" => "true or false",
            "System.Double" or "System.Decimal" => "a number",
            "System.String" => "a string",
            "System.DateTimeOffset" or "System.DateTime" or "DateTimeOffset" => "an ISO-8601 instant such as \"2026-11-23T09:00:00Z\"",
            "System.TimeSpan" => "a duration such as \"PT30S\" or a number of seconds",
            _ when type.Contains("List`1") || type.Contains("[]") => "an array",
            _ when type.Contains("Dictionary`2") => "an object",
            _ => "a value of another shape",
        };
    }

    [GeneratedRegex(@"System\.[A-Za-z0-9_.`\[\],]+")]
    private static partial Regex TypeName();
}
