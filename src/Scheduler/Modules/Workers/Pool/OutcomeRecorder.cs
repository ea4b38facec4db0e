using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// Records attempts' outcomes. Up to <see cref="WorkerOptions.RecordingConcurrency"/>
/// recordings are in flight; each takes every waiting outcome of runs not already in flight,
/// so a lone completion is recorded at once (no added latency), while under load one
/// transaction records many runs' outcomes (10,000 single-task runs finishing do not cost
/// 10,000 transactions). A run has at most one recording in flight: its completions never
/// queue on its row lock. An outcome whose attempt holds a reserved slot for it asks for a
/// hand-off: the recording's transaction claims a queued task for that slot, so a chain's
/// next task starts without a NOTIFY and a claim round trip (see <see cref="CompleteAndClaimTasks"/>).
/// </summary>
internal sealed class OutcomeRecorder(IServiceScopeFactory scopes, WorkerIdentity worker, IOptions<WorkerOptions> options, TimeProvider time, ILogger<OutcomeRecorder> logger)
{
    private readonly WorkerOptions _options = options.Value;
    private readonly Lock _lock = new();
    // Outcomes waiting to be recorded, by run, and the runs with a recording in flight.
    private readonly Dictionary<long, List<Pending>> _pending = [];
    private readonly HashSet<long> _inFlight = [];
    private int _recordings;

    private sealed record Pending(CompleteTask Completion, bool HandOff, TaskCompletionSource<ClaimedTask?> Recorded);

    /// <summary>
    /// Completes when the outcome is recorded, or when recording it was given up (then its
    /// lease runs out and the task is requeued: run again rather than lost). Never faults.
    /// With <paramref name="handOff"/> (the caller holds a reserved slot), the answer may be a
    /// task claimed for that slot in the same transaction: the caller must start it.
    /// </summary>
    public Task<ClaimedTask?> RecordAsync(CompleteTask completion, bool handOff)
    {
        var recorded = new TaskCompletionSource<ClaimedTask?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (!_pending.TryGetValue(completion.RunId, out var items))
                _pending[completion.RunId] = items = [];
            items.Add(new Pending(completion, handOff, recorded));
        }
        StartRecordings();
        return recorded.Task;
    }

    private void StartRecordings()
    {
        while (true)
        {
            var batch = new List<Pending>();
            var runs = new List<long>();
            lock (_lock)
            {
                if (_recordings >= _options.RecordingConcurrency)
                    return;
                foreach (var (runId, items) in _pending)
                {
                    if (_inFlight.Contains(runId))
                        continue;
                    runs.Add(runId);
                    batch.AddRange(items);
                    if (batch.Count >= _options.MaxRecordingBatch)
                        break;
                }
                if (runs.Count == 0)
                    return;
                foreach (var runId in runs)
                {
                    _pending.Remove(runId);
                    _inFlight.Add(runId);
                }
                _recordings++;
            }
            _ = RecordBatchAsync(batch, runs);
        }
    }

    private async Task RecordBatchAsync(List<Pending> batch, List<long> runs)
    {
        try
        {
            await RecordWithRetriesAsync(batch);
        }
        finally
        {
            lock (_lock)
            {
                foreach (var runId in runs)
                    _inFlight.Remove(runId);
                _recordings--;
            }
            StartRecordings();
        }
    }

    /// <summary>
    /// Retries through a database outage for up to a lease period: the attempts stay this
    /// worker's meanwhile, so a short outage costs no rerun. An error the database will give
    /// again (a data error, not an outage) is not retried for the lease period: the batch is
    /// split by run, and a run's outcomes are tried once more without their log tails, so
    /// output the database refuses never decides a task's fate. Only the first, whole-batch
    /// try hands off tasks; the fallbacks record outcomes only.
    /// </summary>
    private async Task RecordWithRetriesAsync(List<Pending> items, bool withLogs = true, bool handOff = true)
    {
        IReadOnlyList<ClaimedTask> handedOff = [];
        try
        {
            var giveUp = time.GetUtcNow() + _options.Lease;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var completions = items.Select(i => withLogs ? i.Completion : WithoutLog(i.Completion)).ToList();
                    var slots = handOff ? items.Count(i => i.HandOff) : 0;
                    handedOff = (await scope.ServiceProvider.GetRequiredService<ISender>()
                        .Send(new CompleteAndClaimTasks(completions, worker.Id, slots, _options.Lease))).HandedOff;
                    return;
                }
                catch (Exception e) when (time.GetUtcNow() < giveUp && IsOutage(e))
                {
                    if (attempt == 1 || attempt % 10 == 0)
                        logger.LogWarning(e, "Recording {Count} outcome(s) of run {Run} failed (try {Try}); retrying", items.Count, items[0].Completion.RunId, attempt);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200 * attempt, 2000)), time);
                }
                catch (Exception e) when (items.Select(i => i.Completion.RunId).Distinct().Count() > 1)
                {
                    // One run's problem must not cost the others their outcomes: record run by run.
                    logger.LogWarning(e, "Recording {Count} outcome(s) of several runs failed; recording them run by run", items.Count);
                    foreach (var run in items.GroupBy(i => i.Completion.RunId))
                        await RecordWithRetriesAsync(run.ToList(), withLogs, handOff: false);
                    return;
                }
                catch (Exception e) when (withLogs && !IsOutage(e))
                {
                    logger.LogWarning(e, "Recording {Count} outcome(s) of run {Run} failed; recording them without their log tails", items.Count, items[0].Completion.RunId);
                    await RecordWithRetriesAsync(items, withLogs: false, handOff: false);
                    return;
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Could not record {Count} outcome(s) of run {Run}; their leases are ended and they will be requeued", items.Count, items[0].Completion.RunId);
                    await ExpireLeasesAsync(items);
                    return;
                }
            }
        }
        finally
        {
            // One handed-off task per reserved slot, to the outcomes that reserved one.
            var next = 0;
            foreach (var item in items)
                item.Recorded.TrySetResult(item.HandOff && next < handedOff.Count ? handedOff[next++] : null);
        }
    }

    /// <summary>
    /// Ends the leases at once, so the tasks are requeued at the scheduler loop's next
    /// maintenance rather than a lease period later (issue 12: a give-up after a lease period
    /// of retries used to cost a second one). If even this fails, the leases run out as before.
    /// </summary>
    private async Task ExpireLeasesAsync(List<Pending> items)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var attempts = items.Select(i => (i.Completion.TaskInstanceId, i.Completion.Attempt)).ToList();
            await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ExpireLeases(items[0].Completion.WorkerId, attempts));
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not end the leases of {Count} unrecorded outcome(s); they are requeued once the leases run out", items.Count);
        }
    }

    /// <summary>The database may answer differently next time: it was unreachable, busy or restarting.</summary>
    private static bool IsOutage(Exception e) => e switch
    {
        PostgresException postgres => postgres.IsTransient,
        NpgsqlException or TimeoutException => true,
        // Npgsql's pool and a broken connection's state report this way.
        InvalidOperationException => true,
        _ => false,
    };

    private static CompleteTask WithoutLog(CompleteTask completion) => completion with
    {
        LogTail = "\n--- the rest of this attempt's log could not be stored ---\n",
    };
}
