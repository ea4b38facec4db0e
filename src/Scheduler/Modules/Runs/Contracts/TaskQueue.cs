using Mediator;

namespace Scheduler.Modules.Runs.Contracts;

/// <summary>
/// A task instance claimed by a worker: everything needed to run the attempt.
/// <paramref name="QueuedSeconds"/>: how long it was ready (queued) before this claim started it.
/// <paramref name="MapIndex"/>: -1 for a task's own row (for a mapped task, the attempt that
/// renders map_over); 0..n-1 for an instance of a mapped task, which sees <paramref name="MapItem"/>
/// (JSON text) as <c>item</c>.
/// </summary>
public sealed record ClaimedTask(
    long TaskInstanceId,
    long RunId,
    string TaskId,
    int Attempt,
    long DagId,
    string DagName,
    int DagVersion,
    DateTimeOffset LogicalDate,
    string ParamsJson,
    string Pool,
    string? TraceParent = null,
    double QueuedSeconds = 0,
    int MapIndex = -1,
    string? MapItem = null);

/// <summary>
/// Claims up to <paramref name="Max"/> queued tasks for the worker, leased for
/// <paramref name="Lease"/>. <paramref name="IncludeConstrained"/> also looks at tasks in
/// limited pools or DAGs with max_active_tasks (a slower, serialised path).
/// </summary>
public sealed record ClaimTasks(string WorkerId, int Max, TimeSpan Lease, bool IncludeConstrained) : ICommand<IReadOnlyList<ClaimedTask>>;

public enum AttemptOutcome
{
    Success,
    Failed,
    Skipped,
    TimedOut,
    Cancelled,
    /// <summary>A wait task parks without a slot until <see cref="CompleteTask.WakeAt"/> (or a signal).</summary>
    Waiting,
}

public static class AttemptOutcomes
{
    /// <summary>The attempt state an outcome is stored as (task_attempts.state).</summary>
    public static string StateName(this AttemptOutcome outcome) => outcome switch
    {
        AttemptOutcome.Success => "success",
        AttemptOutcome.Skipped => "skipped",
        AttemptOutcome.TimedOut => "timed_out",
        AttemptOutcome.Cancelled => "cancelled",
        AttemptOutcome.Waiting => "waiting",
        _ => "failed",
    };
}

/// <summary>
/// An attempt's end, as reported by the worker that ran it. A <see cref="AttemptOutcome.Waiting"/>
/// report parks the task until <paramref name="WakeAt"/> (null: until signalled or timed out);
/// with <paramref name="Poke"/> the wake-up requeues it for one more short attempt (an http poke).
/// </summary>
public sealed record CompleteTask(
    long TaskInstanceId,
    long RunId,
    string TaskId,
    int Attempt,
    string WorkerId,
    AttemptOutcome Outcome,
    int? Code,
    string? Error,
    string? LogTail,
    string? Output = null,
    IReadOnlyList<string>? Follow = null,
    DateTimeOffset? WakeAt = null,
    bool Poke = false);

/// <summary>
/// Reports attempts' ends, of any number of runs, in one transaction (the runs' rows locked
/// in id order). Returns how many
/// reports counted: a report no longer counts when the lease was lost or the run was
/// cancelled meanwhile; its log tail is kept either way.
/// </summary>
public sealed record CompleteTasks(IReadOnlyList<CompleteTask> Completions) : ICommand<int>;

/// <summary>
/// <see cref="CompleteTasks"/>, and in the same transaction, when it queued tasks, claims up to
/// <paramref name="HandOff"/> queued tasks for <paramref name="WorkerId"/> exactly as
/// <see cref="ClaimTasks"/> would (queue order, SKIP LOCKED, leased for <paramref name="Lease"/>,
/// an attempt row each), constrained tasks excepted: the worker that freed a slot runs the
/// next task without waiting for a NOTIFY and a claim of its own. The worker must hold
/// <paramref name="HandOff"/> free slots for the answer; the tasks it gets are its own as
/// soon as the transaction commits (if it is lost, their leases expire and they are requeued).
/// </summary>
public sealed record CompleteAndClaimTasks(IReadOnlyList<CompleteTask> Completions, string WorkerId, int HandOff, TimeSpan Lease) : ICommand<CompletedTasks>;

/// <summary>How many reports counted (as <see cref="CompleteTasks"/> returns) and the tasks handed to the worker.</summary>
public sealed record CompletedTasks(int Counted, IReadOnlyList<ClaimedTask> HandedOff);

/// <summary>Extends the worker's leases; returns the tasks it must stop (cancelled or reassigned).</summary>
public sealed record RenewLeases(string WorkerId, IReadOnlyCollection<long> Running, TimeSpan Lease) : ICommand<IReadOnlyList<long>>;

/// <summary>
/// Ends the leases of attempts whose outcome the worker gave up recording, so the next
/// maintenance requeues them (as it does any lost delivery, within the delivery cap) instead
/// of waiting out the rest of the lease. Only the worker's own running attempts of that
/// number are touched; returns how many.
/// </summary>
public sealed record ExpireLeases(string WorkerId, IReadOnlyCollection<(long TaskInstanceId, int Attempt)> Attempts) : ICommand<int>;

/// <summary>
/// The outputs of a run's tasks (their latest attempt's, JSON text) by task id, for templates
/// of its other tasks (<c>outputs.&lt;task_id&gt;</c>). Tasks without one are absent.
/// </summary>
public sealed record GetRunOutputs(long RunId) : IQuery<IReadOnlyDictionary<string, string>>;

/// <summary>Appends output to a running attempt's log, so the log shows what it printed so far.</summary>
public sealed record AppendTaskLog(long TaskInstanceId, int Attempt, string Text) : ICommand;

/// <summary>Hands interrupted tasks back to the queue (graceful shutdown).</summary>
public sealed record ReleaseTasks(string WorkerId, IReadOnlyCollection<long> TaskInstanceIds) : ICommand<int>;

/// <summary>
/// Requeues tasks whose lease expired (failing those whose last allowed delivery was lost),
/// promotes retries whose delay has passed, stamps SLA misses and starts queued runs whose DAG
/// has room (left waiting by a process that died between a run's end and starting the next).
/// Returns how many rows it moved.
/// </summary>
public sealed record RunQueueMaintenance : ICommand<int>;

/// <summary>PostgreSQL NOTIFY channels the engine signals on.</summary>
public static class Channels
{
    /// <summary>Tasks became queued; payload "c" when some are in limited pools.</summary>
    public const string Queue = "scheduler_queue";
    /// <summary>A run was cancelled; payload is the run id.</summary>
    public const string Cancel = "scheduler_cancel";
}
