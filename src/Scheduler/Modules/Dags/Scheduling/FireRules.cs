using Scheduler.Infrastructure.Schedules;

namespace Scheduler.Modules.Dags.Scheduling;

/// <summary>
/// A calendar as the fire-time function needs it: the days it excludes, in its own zone.
/// Ranges are inclusive on both ends.
/// </summary>
internal sealed record ExclusionCalendar(
    string Name,
    TimeZoneInfo Zone,
    IReadOnlySet<DateOnly> Dates,
    IReadOnlyList<(DateOnly From, DateOnly To)> Ranges,
    string? HolidayCountry);

/// <summary>A maintenance window: it opens at each fire time of <paramref name="Opens"/> and lasts <paramref name="Duration"/>.</summary>
internal sealed record MaintenanceWindow(string Cron, ISchedule Opens, TimeSpan Duration);

/// <summary>Everything that decides when a DAG fires: its schedule, its start/end window, the calendars it excludes and its maintenance windows.</summary>
internal sealed record FireRules(
    ISchedule Schedule,
    DateTimeOffset? StartDate,
    DateTimeOffset? EndDate,
    IReadOnlyList<ExclusionCalendar> Calendars,
    IReadOnlyList<MaintenanceWindow> Windows);

/// <summary>
/// One fire time, decided: skipped (<see cref="SkippedBy"/> says why: the calendar and the
/// day, or the holiday) or due at <see cref="DueAt"/>, which is the fire time itself or, when it
/// falls inside a maintenance window, the end of that window (<see cref="HeldBy"/>).
/// </summary>
internal readonly record struct Fire(DateTimeOffset LogicalDate, DateTimeOffset DueAt, string? SkippedBy, string? HeldBy)
{
    public bool Skipped => SkippedBy is not null;
}
