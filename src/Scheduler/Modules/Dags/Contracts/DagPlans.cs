using System.Text.Json.Nodes;
using Mediator;

namespace Scheduler.Modules.Dags.Contracts;

/// <summary>
/// A DAG version as the engine needs it: every task with DAG defaults applied. Immutable for
/// a given (DagId, Version), so callers may cache it for as long as they like.
/// <paramref name="Timeout"/>: the run-level timeout (a run still going this long after it started fails).
/// </summary>
public sealed record DagPlan(
    long DagId,
    string Name,
    int Version,
    JsonObject Params,
    int MaxActiveRuns,
    int? MaxActiveTasks,
    IReadOnlyList<TaskPlan> Tasks,
    TimeSpan? Sla = null,
    IReadOnlyList<NotificationRulePlan>? Notifications = null,
    DagAuthoring? Authoring = null,
    TimeSpan? Timeout = null,
    string? Team = null);

/// <summary>
/// What templates and triggers need of a DAG (docs/authoring.md): its zone (for <c>ds</c>), its
/// next fire time after an instant (the end of a run's data interval; null without a schedule)
/// and the JSON Schema its params must satisfy.
/// </summary>
public sealed record DagAuthoring(TimeZoneInfo Zone, Func<DateTimeOffset, DateTimeOffset?> NextFire, JsonObject? ParamsSchema);

/// <summary>A DAG's rule: send these events (see Notifications.Contracts.NotificationEvents) to this channel.</summary>
public sealed record NotificationRulePlan(IReadOnlyList<string> On, string Channel);

/// <param name="Spec">The task's definition (snake_case JSON), incl. a plugin's own fields.</param>
/// <param name="MapOver">A mapped task's template that renders to the JSON array it is mapped over; null for a plain task.</param>
/// <param name="MaxMapLength">The most instances a mapped task may expand into.</param>
public sealed record TaskPlan(
    string Id,
    string Type,
    IReadOnlyList<string> DependsOn,
    string TriggerRule,
    int MaxAttempts,
    TimeSpan RetryDelay,
    bool ExponentialBackoff,
    TimeSpan? MaxRetryDelay,
    TimeSpan? Timeout,
    string Pool,
    int Priority,
    JsonObject Spec,
    string? MapOver = null,
    int MaxMapLength = TaskPlan.DefaultMaxMapLength)
{
    public const int DefaultMaxMapLength = 1024;
}

/// <summary>The current version's plan of the DAG with this name, or null.</summary>
public sealed record GetDagPlan(string Name) : IQuery<DagPlan?>;

/// <summary>A given version's plan, or null when the DAG or version is gone.</summary>
public sealed record GetDagPlanVersion(long DagId, int Version) : IQuery<DagPlan?>;

/// <summary>
/// Many plans at once, read in one statement for those not cached (a scheduler that starts
/// cold with 10,000 DAGs due must not read them one by one). Gone ones are absent.
/// </summary>
public sealed record GetDagPlanVersions(IReadOnlyCollection<(long DagId, int Version)> Keys) : IQuery<IReadOnlyDictionary<(long DagId, int Version), DagPlan>>;

/// <summary>
/// DAGs whose next run is due at <paramref name="Now"/>, with the logical dates to create
/// (one, or the missed ones when the DAG catches up) and where the schedule goes next.
/// Reading does not advance anything: the caller creates the runs, then sends
/// <see cref="AdvanceSchedules"/>, so a crash in between re-creates (idempotently) rather than loses runs.
/// </summary>
/// Ordered by (due time, dag id); <paramref name="After"/> continues after a batch already
/// read, so several batches can be worked on at once.
public sealed record GetDueSchedules(DateTimeOffset Now, int Limit, (DateTimeOffset DueAt, long DagId)? After = null) : IQuery<IReadOnlyList<DueSchedule>>;

public sealed record DueSchedule(
    long DagId,
    string Name,
    int Version,
    DateTimeOffset DueAt,
    IReadOnlyList<DateTimeOffset> LogicalDates,
    DateTimeOffset? NextRunAt);

/// <summary>Moves each DAG's next_run_at from DueAt to NextRunAt, unless it changed meanwhile.</summary>
public sealed record AdvanceSchedules(IReadOnlyList<DueSchedule> Schedules) : ICommand<int>;

/// <summary>The earliest next_run_at of an unpaused DAG; null when nothing is scheduled.</summary>
public sealed record GetNextRunAt : IQuery<DateTimeOffset?>;

public static class ScheduleChannels
{
    /// <summary>
    /// NOTIFY channel: a schedule became due earlier than before (a DAG created, changed or
    /// unpaused). Sent at commit by a trigger on dags.dags (migration 0007), whatever the writer.
    /// </summary>
    public const string Changed = "scheduler_schedule";
}
