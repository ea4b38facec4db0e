using Cronos;

namespace Scheduler.Infrastructure.Schedules;

/// <summary>
/// A cron schedule in an IANA zone, as the API contract defines it: 5 fields (minute hour
/// day-of-month month day-of-week) or 6 with leading seconds; macros; <c>L</c>, <c>W</c>,
/// <c>#</c>; month and day names. Cronos does the parsing and the DST rule (a time in a
/// spring-forward gap fires once at the jump; in a repeated hour a fixed-time job fires
/// once, a wildcard job on both passes). Cronos ANDs a restricted day-of-month with a
/// restricted day-of-week; Vixie cron ORs them, so such an expression is kept as two (one
/// with each day field opened to <c>*</c>) and the earlier next fire wins.
/// </summary>
internal sealed class CronSchedule : ISchedule
{
    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private static readonly string[] FieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"];

    private readonly CronExpression[] _expressions;

    /// <summary>Zone offsets reach 14 hours (and DST adds one): past this, local time may not exist.</summary>
    private static readonly DateTimeOffset NearTheEnd = DateTimeOffset.MaxValue.AddDays(-2);

    public string Expression { get; }
    public TimeZoneInfo Zone { get; }
    public bool HasSeconds { get; }

    private CronSchedule(string expression, TimeZoneInfo zone, bool hasSeconds, CronExpression[] expressions)
    {
        Expression = expression;
        Zone = zone;
        HasSeconds = hasSeconds;
        _expressions = expressions;
    }

    public static bool TryParse(string expression, TimeZoneInfo zone, out CronSchedule? schedule, out string? error)
    {
        schedule = null;
        error = null;
        var text = expression.Trim();
        if (text.Length == 0 || text.Length > 500)
        {
            error = "an expression has 5 fields (minute hour day-of-month month day-of-week), 6 with leading seconds, or is a macro such as @daily.";
            return false;
        }
        if (text.StartsWith('@'))
        {
            if (!Macros.TryGetValue(text, out var expanded))
            {
                error = $"unknown macro '{text}'; use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly.";
                return false;
            }
            text = expanded;
        }
        var fields = text.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
        {
            error = $"{fields.Length} fields; an expression has 5 (minute hour day-of-month month day-of-week) or 6 with leading seconds.";
            return false;
        }
        var hasSeconds = fields.Length == 6;
        var format = hasSeconds ? CronFormat.IncludeSeconds : CronFormat.Standard;
        var dom = hasSeconds ? 3 : 2;
        var dow = dom + 2;
        // '?' means "no restriction" as '*' does; Cronos accepts it in one day field only.
        for (var i = 0; i < fields.Length; i++)
            if (fields[i] == "?")
                fields[i] = "*";

        if (!TryCronos(fields, format, hasSeconds, out var whole, out error))
            return false;
        var restricted = (string f) => !f.StartsWith('*');
        CronExpression[] expressions;
        if (restricted(fields[dom]) && restricted(fields[dow]))
        {
            var byDay = (string[])fields.Clone();
            byDay[dow] = "*";
            var byWeekday = (string[])fields.Clone();
            byWeekday[dom] = "*";
            if (!TryCronos(byDay, format, hasSeconds, out var a, out error) || !TryCronos(byWeekday, format, hasSeconds, out var b, out error))
                return false;
            expressions = [a!, b!];
        }
        else
        {
            expressions = [whole!];
        }
        schedule = new CronSchedule(expression, zone, hasSeconds, expressions);
        // "0 0 30 2 *" parses but never fires: refuse it rather than store a DAG that never runs.
        if (schedule.Next(DateTimeOffset.UnixEpoch) is null)
        {
            schedule = null;
            error = "the expression never fires (no date matches it).";
            return false;
        }
        return true;
    }

    private static bool TryCronos(string[] fields, CronFormat format, bool hasSeconds, out CronExpression? parsed, out string? error)
    {
        parsed = null;
        error = null;
        try
        {
            parsed = CronExpression.Parse(string.Join(' ', fields), format);
            return true;
        }
        catch (CronFormatException e)
        {
            error = Explain(e.Message, fields, hasSeconds);
            return false;
        }
    }

    /// <summary>Cronos says which field failed; say it in the contract's words.</summary>
    private static string Explain(string message, string[] fields, bool hasSeconds)
    {
        var names = hasSeconds ? ["second", .. FieldNames] : FieldNames;
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            var cronosName = name switch
            {
                "second" => "Seconds",
                "minute" => "Minutes",
                "hour" => "Hours",
                "day-of-month" => "Days of month",
                "month" => "Months",
                _ => "Days of week",
            };
            if (message.Contains(cronosName, StringComparison.OrdinalIgnoreCase))
                return $"{name} field '{fields[i]}' is not valid.";
        }
        return message.TrimEnd('.') + ".";
    }

    public DateTimeOffset? Next(DateTimeOffset after)
    {
        DateTimeOffset? best = null;
        foreach (var expression in _expressions)
        {
            DateTimeOffset? next;
            try
            {
                next = expression.GetNextOccurrence(after, Zone, inclusive: false);
            }
            catch (ArgumentOutOfRangeException) when (after > NearTheEnd)
            {
                // The zone's local time runs past year 9999: there is no next fire.
                next = null;
            }
            if (next is { } n && (best is null || n < best))
                best = n;
        }
        return best?.ToUniversalTime();
    }
}
