namespace Scheduler.Infrastructure.Schedules;

/// <summary>A schedule: when a DAG fires.</summary>
internal interface ISchedule
{
    /// <summary>The next fire instant strictly after <paramref name="after"/>, in UTC, or null when there is none.</summary>
    DateTimeOffset? Next(DateTimeOffset after);
}

internal static class ScheduleExtensions
{
    public static IEnumerable<DateTimeOffset> Upcoming(this ISchedule schedule, DateTimeOffset after, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (schedule.Next(after) is not { } next)
                yield break;
            yield return next;
            after = next;
        }
    }
}

/// <summary>Fires at anchor + k x period (k >= 0): a fixed grid, so restarts never drift it.</summary>
internal sealed class IntervalSchedule : ISchedule
{
    private readonly TimeSpan period;
    private readonly DateTimeOffset anchor;

    public IntervalSchedule(TimeSpan period, DateTimeOffset anchor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        this.period = period;
        this.anchor = anchor;
    }

    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (after < anchor)
            return anchor.ToUniversalTime();
        // Past the end of DateTimeOffset's range there is no next fire (year 9999 ends the grid).
        var steps = (after - anchor).Ticks / period.Ticks + 1;
        var room = DateTimeOffset.MaxValue.UtcTicks - anchor.UtcTicks;
        if (steps > room / period.Ticks)
            return null;
        return new DateTimeOffset(anchor.UtcTicks + steps * period.Ticks, TimeSpan.Zero);
    }
}

internal static class TimeZones
{
    /// <summary>IANA ids only ("Europe/Berlin", "UTC"); Windows ids and unknown names are refused.</summary>
    public static bool TryFind(string id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id) || id.Length > 100 || id != id.Trim())
            return false;
        try
        {
            var found = TimeZoneInfo.FindSystemTimeZoneById(id);
            if (!found.HasIanaId)
                return false;
            zone = found;
            return true;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            return false;
        }
    }
}
