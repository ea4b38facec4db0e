using System.Globalization;

namespace Scheduler.Pages.Admin;

/// <summary>
/// A schedule in plain words for the common shapes ("every day at 09:00"); anything more
/// unusual is shown as the cron expression itself, which is always exact.
/// </summary>
internal static class ScheduleText
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    public static string Describe(string? cron, string? interval, string timezone)
    {
        var zone = $" ({timezone})";
        if (interval is not null)
        {
            try
            {
                return "every " + Period(System.Xml.XmlConvert.ToTimeSpan(interval)) + zone;
            }
            catch (FormatException)
            {
                return "every " + interval + zone;
            }
        }
        if (string.IsNullOrWhiteSpace(cron))
            return "manual only (no schedule)";
        return Cron(cron.Trim()) + zone;
    }

    private static string Period(TimeSpan t) =>
        t.TotalDays >= 1 && t.TotalDays % 1 == 0 ? Plural((int)t.TotalDays, "day")
        : t.TotalHours >= 1 && t.TotalHours % 1 == 0 ? Plural((int)t.TotalHours, "hour")
        : t.TotalMinutes >= 1 && t.TotalMinutes % 1 == 0 ? Plural((int)t.TotalMinutes, "minute")
        : Plural((int)t.TotalSeconds, "second");

    private static string Plural(int n, string unit) => n == 1 ? unit : $"{n} {unit}s";

    public static string Cron(string cron)
    {
        switch (cron.ToLowerInvariant())
        {
            case "@hourly": return "every hour";
            case "@daily" or "@midnight": return "every day at 00:00";
            case "@weekly": return "every Sunday at 00:00";
            case "@monthly": return "on day 1 of every month at 00:00";
            case "@yearly" or "@annually": return "every 1 January at 00:00";
        }
        var f = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length == 6)
        {
            if (f[0] != "0")
                return $"cron {cron}";
            f = f[1..];
        }
        if (f.Length != 5)
            return $"cron {cron}";
        var (min, hour, dom, month, dow) = (f[0], f[1], f[2], f[3], f[4]);
        if (month != "*")
            return $"cron {cron}";
        if (min == "*" && hour == "*" && dom == "*" && dow == "*")
            return "every minute";
        if (min.StartsWith("*/", StringComparison.Ordinal) && Int(min[2..]) is { } everyMin && hour == "*" && dom == "*" && dow == "*")
            return $"every {Plural(everyMin, "minute")}";
        if (Int(min) is not { } m)
            return $"cron {cron}";
        if (hour == "*" && dom == "*" && dow == "*")
            return m == 0 ? "every hour, on the hour" : $"every hour at minute {m}";
        if (hour.StartsWith("*/", StringComparison.Ordinal) && Int(hour[2..]) is { } everyHour && dom == "*" && dow == "*")
            return $"every {Plural(everyHour, "hour")} at minute {m}";
        var hours = hour.Split(',').Select(Int).ToList();
        if (hours.Any(h => h is null))
            return $"cron {cron}";
        var at = "at " + string.Join(", ", hours.Select(h => $"{h:00}:{m:00}"));
        if (dom == "*" && dow == "*")
            return "every day " + at;
        if (dom == "*" && dow is "1-5" or "MON-FRI" or "mon-fri")
            return "every weekday " + at;
        if (dom == "*" && Int(dow) is { } d && d is >= 0 and <= 7)
            return $"every {Days[d % 7]} {at}";
        if (dow == "*" && Int(dom) is { } day)
            return $"on day {day} of every month {at}";
        return $"cron {cron}";
    }

    private static int? Int(string s) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
