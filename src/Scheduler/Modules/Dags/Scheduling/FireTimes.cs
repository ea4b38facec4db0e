namespace Scheduler.Modules.Dags.Scheduling;

/// <summary>
/// THE function that decides when a DAG fires: the schedule inside its start/end window,
/// minus fire times on a day an excluded calendar excludes (in that calendar's zone), with
/// fire times inside a maintenance window held until the window ends. The scheduler loop
/// (next_run_at and the due dates, catch-up included), the schedule preview and backfill all
/// ask it, so they cannot disagree. Pure: no clock, no database.
/// </summary>
internal static class FireTimes
{
    /// <summary>Maintenance windows that keep overlapping are followed this many hops, then taken as never closing.</summary>
    private const int MaxHops = 1000;

    /// <summary>
    /// Every fire time strictly after <paramref name="after"/>, in order, decided. The
    /// scheduler's walks pass an excluded span (a day, a range) in one step and see only its
    /// first fire time; <paramref name="everySkip"/> lists every skipped one (the preview).
    /// </summary>
    public static IEnumerable<Fire> After(FireRules rules, DateTimeOffset after, bool everySkip = false)
    {
        var from = rules.StartDate is { } start && start > after ? start.AddTicks(-1) : after;
        while (rules.Schedule.Next(from) is { } fire)
        {
            if (rules.EndDate is { } end && fire > end)
                yield break;
            if (ExcludedBy(rules.Calendars, fire, out var resume) is { } reason)
            {
                yield return new Fire(fire, fire, reason, null);
                from = everySkip || resume <= fire ? fire : resume.AddTicks(-1);
                continue;
            }
            var due = ReleaseAt(rules.Windows, fire, out var heldBy);
            yield return new Fire(fire, due, null, heldBy);
            from = fire;
        }
    }

    /// <summary>
    /// Where the schedule goes next after <paramref name="now"/> (next_run_at): the moment the
    /// next fire time not yet due becomes due. A fire time already past but held by a window
    /// still open counts; null when nothing fires any more.
    /// </summary>
    public static DateTimeOffset? NextDue(FireRules rules, DateTimeOffset now)
    {
        var lower = HeldSince(rules.Windows, now);
        foreach (var fire in After(rules, lower == now ? now : lower.AddTicks(-1)))
        {
            if (fire.Skipped || fire.DueAt <= now)
                continue;
            return fire.DueAt == DateTimeOffset.MaxValue ? null : fire.DueAt;
        }
        return null;
    }

    /// <summary>
    /// The logical dates a scan at <paramref name="now"/> creates for a schedule that was due
    /// at <paramref name="dueAt"/>: fire times not skipped that became due in [dueAt, now],
    /// the newest <paramref name="limit"/>. Found by walking windows that grow back from now
    /// (a minute, an hour, a day, ...), so a per-second schedule paused for a year costs a few
    /// hundred steps, not thirty million.
    /// </summary>
    public static List<DateTimeOffset> DueBetween(FireRules rules, DateTimeOffset dueAt, DateTimeOffset now, int limit)
    {
        var until = rules.EndDate is { } end && end < now ? end : now;
        // Fire times before dueAt that a window held until dueAt or later are due now too.
        var lower = HeldSince(rules.Windows, dueAt);
        var dates = new List<DateTimeOffset>();
        foreach (var window in CatchupWindows)
        {
            var from = window < until - lower ? until - window : lower.AddTicks(-1);
            dates.Clear();
            foreach (var fire in After(rules, from))
            {
                if (fire.LogicalDate > until || fire.DueAt > now)
                    break; // due times only grow with fire times
                if (fire.Skipped || fire.DueAt < dueAt)
                    continue;
                dates.Add(fire.LogicalDate);
                if (dates.Count > limit)
                    dates.RemoveAt(0);
            }
            if (dates.Count >= limit || from < lower)
                break;
        }
        return dates;
    }

    private static readonly TimeSpan[] CatchupWindows =
        [TimeSpan.FromMinutes(2), TimeSpan.FromHours(2), TimeSpan.FromDays(2), TimeSpan.FromDays(62), TimeSpan.FromDays(800), TimeSpan.MaxValue];

    /// <summary>
    /// Backfill: the fire times in [<paramref name="from"/>, <paramref name="to"/>] that are
    /// not skipped, at most <paramref name="max"/> + 1 (so a caller can tell "too many").
    /// Maintenance windows do not apply: they hold runs created by the schedule, not history.
    /// </summary>
    public static List<DateTimeOffset> Between(FireRules rules, DateTimeOffset from, DateTimeOffset to, int max)
    {
        var dates = new List<DateTimeOffset>();
        foreach (var fire in After(rules with { Windows = [] }, from.AddTicks(-1)))
        {
            if (fire.LogicalDate > to || dates.Count > max)
                break;
            if (!fire.Skipped)
                dates.Add(fire.LogicalDate);
        }
        return dates;
    }

    /// <summary>
    /// Why a calendar excludes the day of <paramref name="at"/> (in the calendar's zone), or
    /// null. <paramref name="resumeAt"/> is the first instant after the excluded span (the
    /// day, or the end of the longest range holding it), across all calendars that exclude it.
    /// </summary>
    public static string? ExcludedBy(IReadOnlyList<ExclusionCalendar> calendars, DateTimeOffset at, out DateTimeOffset resumeAt)
    {
        resumeAt = at;
        string? reason = null;
        foreach (var calendar in calendars)
        {
            var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, calendar.Zone).DateTime);
            string? why = null;
            var last = day;
            if (calendar.Dates.Contains(day))
                why = $"calendar '{calendar.Name}' excludes {day:yyyy-MM-dd}";
            foreach (var (first, end) in calendar.Ranges)
            {
                if (first > day || day > end)
                    continue;
                why ??= $"calendar '{calendar.Name}' excludes {first:yyyy-MM-dd} to {end:yyyy-MM-dd}";
                if (end > last)
                    last = end;
            }
            if (why is null && calendar.HolidayCountry is { } country && Holidays.Name(country, day) is { } holiday)
                why = $"calendar '{calendar.Name}': {holiday} ({country} public holiday)";
            if (why is null)
                continue;
            reason ??= why;
            var resume = last == DateOnly.MaxValue ? DateTimeOffset.MaxValue : StartOfDay(calendar.Zone, last.AddDays(1));
            if (resume > resumeAt)
                resumeAt = resume;
        }
        return reason;
    }

    /// <summary>The first instant of a local day: midnight, or the first valid time when a DST jump skips midnight.</summary>
    public static DateTimeOffset StartOfDay(TimeZoneInfo zone, DateOnly day)
    {
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
            local = local.AddMinutes(15);
        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    /// <summary>
    /// When a fire time becomes due: itself, or the end of the maintenance windows (overlapping
    /// or back to back) it falls inside; <see cref="DateTimeOffset.MaxValue"/> when they never close.
    /// </summary>
    public static DateTimeOffset ReleaseAt(IReadOnlyList<MaintenanceWindow> windows, DateTimeOffset fire, out string? heldBy)
    {
        heldBy = null;
        var t = fire;
        for (var hop = 0; hop < MaxHops; hop++)
        {
            var moved = false;
            foreach (var window in windows)
            {
                // The earliest opening whose window is still open at t: the first one after t - duration.
                if (window.Opens.Next(t - window.Duration) is not { } opens || opens > t)
                    continue;
                if (opens > DateTimeOffset.MaxValue - window.Duration)
                    return DateTimeOffset.MaxValue;
                t = opens + window.Duration;
                moved = true;
                heldBy ??= $"maintenance window '{window.Cron}' for {System.Xml.XmlConvert.ToString(window.Duration)}";
            }
            if (!moved)
                return t;
        }
        return DateTimeOffset.MaxValue;
    }

    /// <summary>
    /// The earliest instant from which maintenance windows cover every moment up to (not
    /// including) <paramref name="t"/>; <paramref name="t"/> itself when none is open just before it.
    /// </summary>
    public static DateTimeOffset HeldSince(IReadOnlyList<MaintenanceWindow> windows, DateTimeOffset t)
    {
        var u = t;
        for (var hop = 0; hop < MaxHops && windows.Count > 0; hop++)
        {
            var moved = false;
            foreach (var window in windows)
            {
                if (u - DateTimeOffset.MinValue <= window.Duration)
                    return u;
                // An opening in [u - duration, u) keeps the window open just before u.
                if (window.Opens.Next(u - window.Duration - TimeSpan.FromTicks(1)) is { } opens && opens < u)
                {
                    u = opens;
                    moved = true;
                }
            }
            if (!moved)
                break;
        }
        return u;
    }
}
