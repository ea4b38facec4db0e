using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Abstractions;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Workers.Executors;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// This replica's worker: ONE claim loop that takes as many queued tasks as there are free
/// slots in one statement, woken by NOTIFY and polling slowly as a fallback (no poller per
/// slot, which collapses under contention); a heartbeat that renews the leases of running
/// tasks; and the attempts themselves, each with its timeout and cancellation. A replica
/// killed outright loses nothing: its leases expire and the tasks are requeued elsewhere.
/// </summary>
internal sealed class WorkerPool(
    IServiceScopeFactory scopes,
    NpgsqlDataSource dataSource,
    ExecutorRegistry executors,
    IConnectionResolver connections,
    IOptions<WorkerOptions> options,
    ILogger<WorkerPool> logger) : BackgroundService
{
    private readonly WorkerOptions _options = options.Value;
    private readonly ConcurrentDictionary<long, RunningAttempt> _running = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    // Outcomes waiting to be recorded, by run, and the runs with a recording in flight.
    private readonly Lock _pendingLock = new();
    private readonly Dictionary<long, List<(CompleteTask Completion, TaskCompletionSource Recorded)>> _pending = [];
    private readonly HashSet<long> _recordingRuns = [];
    private int _recordings;
    // Attempts that finished executing and whose outcome is being recorded: their slot is
    // free already, their lease is still renewed until the outcome is in.
    private readonly ConcurrentDictionary<long, byte> _recording = new();

    private volatile bool _constrainedHint = true;
    // The last claim filled every free slot, so more work is probably waiting.
    private volatile bool _backlog;
    private DateTime _lastClaim = DateTime.MinValue;
    // Plans are immutable per (dag, version): fetched once per process, not once per attempt.
    private readonly ConcurrentDictionary<(long, int), DagPlan> _plans = new();
    private volatile bool _stopping;

    public string WorkerId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";

    private sealed record RunningAttempt(ClaimedTask Task, CancellationTokenSource Cancel, Task Execution)
    {
        public volatile string? StopReason;
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up claims for every free slot.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
            return;
        await Registry.RegisterAsync(dataSource, WorkerId, _options.Slots, stoppingToken);
        logger.LogInformation("Worker {Worker} started with {Slots} slots", WorkerId, _options.Slots);
        var listener = ListenAsync(stoppingToken);
        var heartbeat = HeartbeatAsync(stoppingToken);
        try
        {
            await ClaimLoopAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(listener, heartbeat).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private async Task ClaimLoopAsync(CancellationToken stoppingToken)
    {
        var lastPoll = DateTime.UtcNow;
        while (!stoppingToken.IsCancellationRequested && !_stopping)
        {
            // Backpressure: while RecordingBacklog outcomes wait for the database, claim nothing
            // more (a slow or unreachable database must not pile up work here). Below it, claims
            // overlap the recordings: short tasks keep the slots busy while outcomes are written.
            var free = _recording.Count >= _options.RecordingBacklog ? 0 : _options.Slots - _running.Count;
            var poll = PollInterval();
            var polling = DateTime.UtcNow - lastPoll >= poll;
            if (free > 0)
            {
                if (polling)
                    lastPoll = DateTime.UtcNow;
                var includeConstrained = _constrainedHint || polling;
                _constrainedHint = false;
                IReadOnlyList<ClaimedTask> claimed;
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    claimed = await scope.ServiceProvider.GetRequiredService<ISender>()
                        .Send(new ClaimTasks(WorkerId, free, _options.Lease, includeConstrained), stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Claiming tasks failed; retrying after the poll interval");
                    await WaitForWakeAsync(_options.Poll, stoppingToken);
                    continue;
                }
                foreach (var task in claimed)
                    Start(task);
                if (claimed.Count > 0)
                    _lastClaim = DateTime.UtcNow;
                _backlog = claimed.Count == free;
                // A full batch means more may be waiting: claim again as soon as a slot frees.
                if (claimed.Count == free)
                {
                    _constrainedHint |= includeConstrained;
                    if (_running.Count < _options.Slots)
                        continue;
                }
            }
            await WaitForWakeAsync(PollInterval(), stoppingToken);
        }
    }

    /// <summary>The short fallback poll while this worker is busy or was lately; the idle one otherwise.</summary>
    private TimeSpan PollInterval() =>
        !_running.IsEmpty || !_recording.IsEmpty || DateTime.UtcNow - _lastClaim < _options.IdlePoll ? _options.Poll : _options.IdlePoll;

    private async Task WaitForWakeAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await _wake.WaitAsync(timeout, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Start(ClaimedTask task)
    {
        var cancel = new CancellationTokenSource();
        var started = new TaskCompletionSource();
        var execution = Task.Run(async () =>
        {
            await started.Task;
            await RunAttemptAsync(task, cancel);
        });
        _running[task.TaskInstanceId] = new RunningAttempt(task, cancel, execution);
        started.SetResult();
    }

    private async Task RunAttemptAsync(ClaimedTask task, CancellationTokenSource cancel)
    {
        var log = new AttemptLog(task.TaskInstanceId, task.Attempt, _options.MaxLogChars);
        AttemptOutcome outcome;
        int? code = null;
        string? error = null;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var sender = scope.ServiceProvider.GetRequiredService<ISender>();
            var plan = (await PlanAsync(sender, task, cancel.Token))?.Tasks.FirstOrDefault(t => t.Id == task.TaskId);
            if (plan is null)
            {
                (outcome, error) = (AttemptOutcome.Failed, $"Task '{task.TaskId}' is not in version {task.DagVersion} of DAG '{task.DagName}'.");
            }
            else if (!executors.TryGet(plan.Type, out var executor))
            {
                (outcome, error) = (AttemptOutcome.Failed, $"No executor for task type '{plan.Type}' on worker {WorkerId}.");
            }
            else
            {
                if (plan.Timeout is { } timeout)
                    cancel.CancelAfter(timeout);
                using var flusher = new PeriodicTimer(TimeSpan.FromSeconds(1));
                var flushing = FlushPeriodicallyAsync(flusher, log, sender, cancel.Token);
                try
                {
                    var result = await executor.ExecuteAsync(new TaskExecutionContext
                    {
                        RunId = task.RunId,
                        DagName = task.DagName,
                        TaskId = task.TaskId,
                        Attempt = task.Attempt,
                        LogicalDate = task.LogicalDate,
                        IdempotencyKey = $"{task.RunId.ToString(CultureInfo.InvariantCulture)}:{task.TaskId}:{task.Attempt.ToString(CultureInfo.InvariantCulture)}",
                        Task = plan.Spec.DeepClone().AsObject(),
                        Params = JsonNode.Parse(task.ParamsJson)?.AsObject() ?? [],
                        Log = log,
                        Connections = connections,
                    }, cancel.Token);
                    (outcome, code, error) = result.Kind switch
                    {
                        TaskOutcomeKind.Success => (AttemptOutcome.Success, result.Code, null),
                        TaskOutcomeKind.Skipped => (AttemptOutcome.Skipped, result.Code, null),
                        _ => (AttemptOutcome.Failed, result.Code, result.Error),
                    };
                    if (cancel.IsCancellationRequested && outcome == AttemptOutcome.Failed)
                        (outcome, error) = Interrupted(task, plan);
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    (outcome, error) = Interrupted(task, plan);
                }
                finally
                {
                    flusher.Dispose();
                    await flushing;
                }
            }
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            (outcome, error) = (AttemptOutcome.Failed, e.Message);
            log.WriteLine($"--- the attempt failed: {e.GetType().Name}: {e.Message} ---");
        }
        catch (OperationCanceledException)
        {
            (outcome, error) = (AttemptOutcome.Cancelled, "cancelled before it started");
        }

        var stopReason = _running.TryGetValue(task.TaskInstanceId, out var running) ? running.StopReason : null;
        if (stopReason == StopReasons.Shutdown)
        {
            // Handed back to the queue by StopAsync.
            _running.TryRemove(task.TaskInstanceId, out _);
            cancel.Dispose();
            return;
        }
        if (error is not null)
            log.WriteLine($"--- {error} ---");
        // The slot frees as soon as the work is done. With a backlog the next claim overlaps
        // the recording of this outcome; without one, claiming waits for the commit (below),
        // which is when this task's downstream tasks become claimable.
        _recording[task.TaskInstanceId] = 0;
        _running.TryRemove(task.TaskInstanceId, out _);
        cancel.Dispose();
        if (_backlog)
            Wake();
        try
        {
            await CompleteAsync(new CompleteTask(task.TaskInstanceId, task.RunId, task.TaskId, task.Attempt, WorkerId, outcome, code, error, log.Take(final: true)));
        }
        finally
        {
            _recording.TryRemove(task.TaskInstanceId, out _);
            Wake();
        }
    }

    private async ValueTask<DagPlan?> PlanAsync(ISender sender, ClaimedTask task, CancellationToken ct)
    {
        if (_plans.TryGetValue((task.DagId, task.DagVersion), out var cached))
            return cached;
        var plan = await sender.Send(new GetDagPlanVersion(task.DagId, task.DagVersion), ct);
        if (plan is not null)
        {
            if (_plans.Count > 10_000)
                _plans.Clear();
            _plans[(task.DagId, task.DagVersion)] = plan;
        }
        return plan;
    }

    private (AttemptOutcome, string) Interrupted(ClaimedTask task, TaskPlan plan)
    {
        var reason = _running.TryGetValue(task.TaskInstanceId, out var r) ? r.StopReason : null;
        return reason switch
        {
            StopReasons.Cancelled => (AttemptOutcome.Cancelled, "cancelled"),
            StopReasons.Lost => (AttemptOutcome.Cancelled, "stopped: the task is no longer this worker's"),
            StopReasons.Shutdown => (AttemptOutcome.Cancelled, "interrupted by shutdown"),
            _ => (AttemptOutcome.TimedOut, $"timed out after {plan.Timeout}"),
        };
    }

    private static async Task FlushPeriodicallyAsync(PeriodicTimer timer, AttemptLog log, ISender sender, CancellationToken ct)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
                await log.FlushAsync(sender, ct);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (Exception)
        {
            // A failed flush leaves the text buffered; it goes out with the completion.
        }
    }

    /// <summary>
    /// Queues the outcome for recording and waits until it is recorded. Up to
    /// <see cref="WorkerOptions.RecordingConcurrency"/> recordings are in flight; each takes
    /// every waiting outcome of runs not already in flight, so a lone completion is recorded
    /// at once (no added latency), while under load one transaction records many runs'
    /// outcomes (10,000 single-task runs finishing do not cost 10,000 transactions). A run has
    /// at most one recording in flight: its completions never queue on its row lock.
    /// </summary>
    private Task CompleteAsync(CompleteTask completion)
    {
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pendingLock)
        {
            if (!_pending.TryGetValue(completion.RunId, out var items))
                _pending[completion.RunId] = items = [];
            items.Add((completion, recorded));
        }
        StartRecordings();
        return recorded.Task;
    }

    private void StartRecordings()
    {
        while (true)
        {
            var batch = new List<(CompleteTask Completion, TaskCompletionSource Recorded)>();
            var runs = new List<long>();
            lock (_pendingLock)
            {
                if (_recordings >= _options.RecordingConcurrency)
                    return;
                foreach (var (runId, items) in _pending)
                {
                    if (_recordingRuns.Contains(runId))
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
                    _recordingRuns.Add(runId);
                }
                _recordings++;
            }
            _ = RecordBatchAsync(batch, runs);
        }
    }

    private async Task RecordBatchAsync(List<(CompleteTask Completion, TaskCompletionSource Recorded)> batch, List<long> runs)
    {
        try
        {
            await RecordAsync(batch);
        }
        finally
        {
            lock (_pendingLock)
            {
                foreach (var runId in runs)
                    _recordingRuns.Remove(runId);
                _recordings--;
            }
            StartRecordings();
        }
    }

    /// <summary>
    /// Records outcomes, retrying through a database outage for up to a lease
    /// period: the attempts stay this worker's meanwhile, so a short outage costs no rerun.
    /// If they still cannot be recorded, the leases run out and the tasks are requeued: run
    /// again rather than lost.
    /// </summary>
    private async Task RecordAsync(List<(CompleteTask Completion, TaskCompletionSource Recorded)> items)
    {
        try
        {
            var giveUp = DateTime.UtcNow + _options.Lease;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<ISender>().Send(new CompleteTasks(items.Select(i => i.Completion).ToList()));
                    return;
                }
                catch (Exception e) when (DateTime.UtcNow < giveUp && e is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    if (attempt == 1 || attempt % 10 == 0)
                        logger.LogWarning(e, "Recording {Count} outcome(s) of run {Run} failed (try {Try}); retrying", items.Count, items[0].Completion.RunId, attempt);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200 * attempt, 2000)));
                }
                catch (Exception e) when (items.Select(i => i.Completion.RunId).Distinct().Count() > 1)
                {
                    // One run's problem must not cost the others their outcomes: record run by run.
                    logger.LogWarning(e, "Recording {Count} outcome(s) of several runs failed; recording them run by run", items.Count);
                    foreach (var run in items.GroupBy(i => i.Completion.RunId))
                        await RecordAsync(run.ToList());
                    return;
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Could not record {Count} outcome(s) of run {Run}; their leases will expire and they will be requeued", items.Count, items[0].Completion.RunId);
                    return;
                }
            }
        }
        finally
        {
            foreach (var item in items)
                item.Recorded.TrySetResult();
        }
    }

    private static class StopReasons
    {
        public const string Cancelled = "cancelled";
        public const string Lost = "lost";
        public const string Shutdown = "shutdown";
    }

    private void Stop(long taskInstanceId, string reason)
    {
        if (_running.TryGetValue(taskInstanceId, out var attempt))
        {
            attempt.StopReason ??= reason;
            try
            {
                attempt.Cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>LISTEN for queued work and cancellations on a dedicated connection; reconnects on failure.</summary>
    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                connection.Notification += (_, e) =>
                {
                    if (e.Channel == Runs.Contracts.Channels.Cancel)
                    {
                        if (long.TryParse(e.Payload, CultureInfo.InvariantCulture, out var runId))
                            foreach (var attempt in _running.Values.Where(a => a.Task.RunId == runId))
                                Stop(attempt.Task.TaskInstanceId, StopReasons.Cancelled);
                        return;
                    }
                    if (e.Payload == "c")
                        _constrainedHint = true;
                    Wake();
                };
                await using (var cmd = new NpgsqlCommand($"listen {Runs.Contracts.Channels.Queue}; listen {Runs.Contracts.Channels.Cancel}", connection))
                    await cmd.ExecuteNonQueryAsync(ct);
                _constrainedHint = true;
                Wake(); // anything queued while we were not listening
                while (!ct.IsCancellationRequested)
                    await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Queue listener lost its connection; reconnecting");
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        }
    }

    private async Task HeartbeatAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.Heartbeat);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    var running = _running.Keys.ToArray();
                    await using var scope = scopes.CreateAsyncScope();
                    var lost = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new RenewLeases(WorkerId, [.. running, .. _recording.Keys], _options.Lease), ct);
                    foreach (var id in lost)
                        Stop(id, StopReasons.Lost);
                    await Registry.HeartbeatAsync(dataSource, WorkerId, _options.Slots, running.Length, _stopping, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Heartbeat failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Graceful shutdown: stop claiming, let running attempts finish within the shutdown
    /// timeout, then interrupt the rest and hand them back to the queue under the same
    /// attempt number.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        Wake();
        if (_options.Enabled && !_running.IsEmpty)
        {
            logger.LogInformation("Waiting up to {Timeout} for {Count} running task(s)", _options.ShutdownTimeout, _running.Count);
            var all = Task.WhenAll(_running.Values.Select(r => r.Execution));
            await Task.WhenAny(all, Task.Delay(_options.ShutdownTimeout, cancellationToken));
            var left = _running.Values.ToList();
            foreach (var attempt in left)
                Stop(attempt.Task.TaskInstanceId, StopReasons.Shutdown);
            if (left.Count > 0)
            {
                await Task.WhenAny(Task.WhenAll(left.Select(r => r.Execution)), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var released = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ReleaseTasks(WorkerId, left.Select(a => a.Task.TaskInstanceId).ToList()), CancellationToken.None);
                    logger.LogInformation("Handed {Count} interrupted task(s) back to the queue", released);
                }
                catch (Exception e)
                {
                    logger.LogWarning(e, "Could not hand tasks back; their leases will expire and they will be requeued");
                }
            }
        }
        // Outcomes still being recorded get a moment; any left behind are re-run after their lease.
        for (var waited = 0; !_recording.IsEmpty && waited < 100; waited++)
            await Task.Delay(50, CancellationToken.None);
        await base.StopAsync(cancellationToken);
        if (_options.Enabled)
        {
            try
            {
                await Registry.RemoveAsync(dataSource, WorkerId, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogDebug(e, "Could not remove the worker row");
            }
        }
    }
}
