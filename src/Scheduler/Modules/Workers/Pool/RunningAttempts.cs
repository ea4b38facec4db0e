using System.Collections.Concurrent;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>Why an attempt was told to stop before it finished on its own.</summary>
internal enum StopReason
{
    None,
    /// <summary>Its run was cancelled.</summary>
    Cancelled,
    /// <summary>The heartbeat found the task is no longer this worker's (reassigned or marked).</summary>
    Lost,
    /// <summary>This replica is shutting down; the task goes back to the queue, not to a final state.</summary>
    Shutdown,
}

/// <summary>One attempt that holds a slot.</summary>
internal sealed class RunningAttempt(ClaimedTask task, CancellationTokenSource cancel)
{
    private int _stopReason;

    public ClaimedTask Task { get; } = task;
    public CancellationTokenSource Cancel { get; } = cancel;
    /// <summary>Completes when the attempt is over: recorded, or handed back at shutdown.</summary>
    public Task Execution { get; set; } = System.Threading.Tasks.Task.CompletedTask;
    public StopReason StopReason => (StopReason)Volatile.Read(ref _stopReason);

    /// <summary>The first reason wins: a run cancelled during shutdown is still recorded as cancelled.</summary>
    public void Stop(StopReason reason)
    {
        Interlocked.CompareExchange(ref _stopReason, (int)reason, (int)StopReason.None);
        try
        {
            Cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended meanwhile.
        }
    }
}

/// <summary>
/// The attempts this worker holds leases for: those running (each holds a slot) and those
/// whose outcome is being recorded (their slot is free already, their lease is still renewed
/// until the outcome is in, so an outage while recording costs no rerun). Slots are reserved
/// before anything claims for them (the claim loop, a completion's hand-off) and released
/// only once the claimed attempts are added, so two claims in flight never overfill the slots.
/// </summary>
internal sealed class RunningAttempts
{
    private readonly ConcurrentDictionary<long, RunningAttempt> _running = new();
    private readonly ConcurrentDictionary<long, byte> _recording = new();
    private readonly Lock _reservations = new();
    private int _reserved;

    public int RunningCount => _running.Count;
    public int RecordingCount => _recording.Count;
    /// <summary>Nothing running and nothing being recorded.</summary>
    public bool IsIdle => _running.IsEmpty && _recording.IsEmpty;
    public bool IsRecording => !_recording.IsEmpty;

    public IReadOnlyList<RunningAttempt> Running => [.. _running.Values];
    public long[] RunningIds => [.. _running.Keys];
    public long[] RecordingIds => [.. _recording.Keys];

    public void Add(RunningAttempt attempt) => _running[attempt.Task.TaskInstanceId] = attempt;

    /// <summary>
    /// Reserves up to <paramref name="wanted"/> of the <paramref name="slots"/> that are neither
    /// running nor reserved; returns how many. An attempt added while its reservation is still
    /// held counts twice for a moment: the error is on the side of claiming less, never more.
    /// </summary>
    public int Reserve(int wanted, int slots)
    {
        lock (_reservations)
        {
            var granted = Math.Clamp(slots - _running.Count - _reserved, 0, wanted);
            _reserved += granted;
            return granted;
        }
    }

    /// <summary>Gives reserved slots back, once what was claimed for them has been <see cref="Add"/>ed.</summary>
    public void Release(int count)
    {
        lock (_reservations)
            _reserved -= count;
    }

    public StopReason StopReasonOf(long taskInstanceId) =>
        _running.TryGetValue(taskInstanceId, out var attempt) ? attempt.StopReason : StopReason.None;

    /// <summary>
    /// Frees the attempt's slot while its lease stays renewed until <see cref="Recorded"/>; with
    /// <paramref name="keepSlot"/> the slot becomes a reservation instead (never free in between,
    /// so nothing else can take it), to be <see cref="Release"/>d by the caller. Returns whether it kept one.
    /// </summary>
    public bool BeginRecording(long taskInstanceId, bool keepSlot)
    {
        _recording[taskInstanceId] = 0;
        lock (_reservations)
        {
            var kept = _running.TryRemove(taskInstanceId, out _) && keepSlot;
            if (kept)
                _reserved++;
            return kept;
        }
    }

    public void Recorded(long taskInstanceId) => _recording.TryRemove(taskInstanceId, out _);

    /// <summary>Forgets an attempt that will not be recorded (handed back at shutdown).</summary>
    public void Remove(long taskInstanceId) => _running.TryRemove(taskInstanceId, out _);

    public void Stop(long taskInstanceId, StopReason reason)
    {
        if (_running.TryGetValue(taskInstanceId, out var attempt))
            attempt.Stop(reason);
    }

    public void StopRun(long runId, StopReason reason)
    {
        foreach (var attempt in _running.Values)
            if (attempt.Task.RunId == runId)
                attempt.Stop(reason);
    }
}
