using Cronos;

namespace Scheduler.Client.Builder;

/// <summary>The server's cron grammar, checked with the same library (Cronos): 5 fields, 6 with leading seconds, or a macro.</summary>
internal static class CronCheck
{
    private static readonly HashSet<string> Macros = new(StringComparer.OrdinalIgnoreCase) { "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly" };

    public static void Check(string expression)
    {
        var text = expression?.Trim() ?? "";
        if (text.StartsWith('@'))
        {
            if (!Macros.Contains(text))
                throw new ArgumentException($"Unknown cron macro '{text}'; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly.", nameof(expression));
            return;
        }
        var fields = text.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
            throw new ArgumentException($"'{expression}' has {fields.Length} fields; a cron expression has 5 (minute hour day-of-month month day-of-week) or 6 with leading seconds.", nameof(expression));
        // '?' means "no restriction" as '*' does; the server reads it so.
        var normalized = string.Join(' ', fields.Select(f => f == "?" ? "*" : f));
        try
        {
            CronExpression.Parse(normalized, fields.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw new ArgumentException($"'{expression}' is not a valid cron expression: {e.Message}", nameof(expression), e);
        }
    }
}
