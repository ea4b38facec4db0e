namespace Scheduler.Modules.Dags.Schedules;
// Removed when the real schedule code lands.
internal interface ISchedule { DateTimeOffset? Next(DateTimeOffset after); }
internal sealed class CronSchedule : ISchedule
{
    private readonly Cronos.CronExpression _e;
    private CronSchedule(string x, TimeZoneInfo z, Cronos.CronExpression e) { Expression = x; Zone = z; _e = e; }
    public string Expression { get; }
    public TimeZoneInfo Zone { get; }
    public static bool TryParse(string expression, TimeZoneInfo zone, out CronSchedule? schedule, out string? error)
    {
        schedule = null; error = null;
        if (Cronos.CronExpression.TryParse(expression, out var e)) { schedule = new CronSchedule(expression, zone, e); return true; }
        error = "invalid"; return false;
    }
    public DateTimeOffset? Next(DateTimeOffset after) => _e.GetNextOccurrence(after, Zone)?.ToUniversalTime();
}
internal sealed class IntervalSchedule(TimeSpan period, DateTimeOffset anchor) : ISchedule
{
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (after < anchor) return anchor;
        var k = (after - anchor).Ticks / period.Ticks + 1;
        return anchor + TimeSpan.FromTicks(k * period.Ticks);
    }
}
internal static class ScheduleExtensions
{
    public static IEnumerable<DateTimeOffset> Upcoming(this ISchedule s, DateTimeOffset after, int count)
    {
        for (var i = 0; i < count; i++) { var n = s.Next(after); if (n is null) yield break; yield return n.Value; after = n.Value; }
    }
}
internal static class TimeZones
{
    public static bool TryFind(string ianaId, out TimeZoneInfo zone)
    {
        try { zone = TimeZoneInfo.FindSystemTimeZoneById(ianaId); return true; } catch { zone = TimeZoneInfo.Utc; return false; }
    }
}
