using Scheduler.Infrastructure.Schedules;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>
/// A validated definition ready to store: canonical text, its hash, and the schedule it
/// implies. <c>paused</c> is state, not definition: it is taken from the body only when a
/// DAG is created (as Airflow's is_paused_upon_creation), so it is left out of the hash.
/// </summary>
internal sealed record PreparedDefinition(
    DagDefinition Definition,
    string Canonical,
    string Hash,
    ISchedule? Schedule,
    TimeZoneInfo Zone)
{
    public static PreparedDefinition From(DagDefinition definition)
    {
        var initiallyPaused = definition.Paused;
        definition.Paused = null;
        var canonical = CanonicalJson.Serialize(definition);
        definition.Paused = initiallyPaused;
        var zone = ZoneOf(definition);
        return new PreparedDefinition(definition, canonical, CanonicalJson.Hash(canonical), ScheduleOf(definition, zone), zone);
    }

    /// <summary>The definition's time zone (UTC when it names none); it must have been validated.</summary>
    public static TimeZoneInfo ZoneOf(DagDefinition definition) =>
        definition.Timezone is null ? TimeZoneInfo.Utc
            : TimeZones.TryFind(definition.Timezone, out var zone) ? zone
            : throw new InvalidOperationException("A definition must be validated before it is prepared.");

    public static ISchedule? ScheduleOf(DagDefinition definition, TimeZoneInfo zone)
    {
        if (definition.Cron is not null)
            return CronSchedule.TryParse(definition.Cron, zone, out var cron, out var error) ? cron!
                : throw new InvalidOperationException($"A validated cron failed to parse: {error}");
        if (definition.Interval is { } period)
            return new IntervalSchedule(period, definition.StartDate ?? DateTimeOffset.UnixEpoch);
        return null;
    }

    /// <summary>The definition's fire rules without calendars; null when it has no schedule.</summary>
    public FireRules? Rules => ScheduleRules.Of(Definition, Schedule, Zone);

    /// <summary>
    /// next_run_at after <paramref name="now"/> (<see cref="FireTimes.NextDue"/>), with the
    /// calendars of this snapshot; null when the DAG has no schedule or its window has closed.
    /// </summary>
    public DateTimeOffset? NextRunAfter(DateTimeOffset now, IReadOnlyDictionary<string, ExclusionCalendar> calendars) =>
        Rules is { } rules ? FireTimes.NextDue(ScheduleRules.WithCalendars(rules, Definition, calendars), now) : null;
}
