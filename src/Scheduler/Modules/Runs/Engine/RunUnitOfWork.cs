using Mediator;
using Npgsql;
using Scheduler.Infrastructure.Telemetry;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// The unit of work over runs: opens run transactions (each run's row locked, its plan
/// loaded) and ends them with the one shared epilogue, so every path that changes task
/// states saves counters, writes events, starts waiting runs and wakes workers the same way.
/// </summary>
internal sealed class RunUnitOfWork(NpgsqlDataSource dataSource, ISender sender, TimeProvider clock, SchedulerMetrics metrics, ILogger<RunUnitOfWork> logger)
{
    private Task<DagPlan?> Plan(long dagId, int version) => sender.Send(new GetDagPlanVersion(dagId, version)).AsTask();

    public NpgsqlDataSource DataSource => dataSource;

    /// <inheritdoc cref="RunTransaction.BeginManyAsync"/>
    public Task<Dictionary<long, RunTransaction>> BeginManyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<long> runIds, CancellationToken ct) =>
        RunTransaction.BeginManyAsync(connection, tx, runIds, Plan, clock, ct);

    /// <summary>
    /// Runs <paramref name="work"/> inside a run transaction and commits with the shared
    /// epilogue; default when the run does not exist (or its DAG version is gone).
    /// </summary>
    public async Task<T?> InRunAsync<T>(long runId, Func<RunTransaction, Task<T?>> work, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var run = (await BeginManyAsync(connection, tx, [runId], ct)).GetValueOrDefault(runId);
        if (run is null)
            return default;
        var result = await work(run);
        await CommitRunsAsync(connection, tx, [run], ct);
        return result;
    }

    /// <summary>
    /// The shared epilogue of run transactions: the changed runs' counters and states in one
    /// statement, their notification events in one, workers woken once, commit; then the
    /// waiting runs of finished runs' DAGs started (<see cref="TryStartWaitingRunsAsync"/>).
    /// </summary>
    /// <param name="handedOff">The <c>running</c> events of tasks claimed in this transaction, written after the runs' own.</param>
    public async Task CommitRunsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<RunTransaction> runs, CancellationToken ct, IReadOnlyList<Events.RunEvents.Row>? handedOff = null)
    {
        var changed = runs.Where(r => r.Changes.Count > 0).ToList();
        if (changed.Count > 0)
        {
            await RunTransaction.SaveRunsAsync(changed, ct);
            await NotificationOutbox.WriteAsync(connection, tx, changed.SelectMany(r => r.Events).ToList(), ct);
            await Events.RunEvents.AppendAsync(connection, tx, changed, ct, handedOff);
            if (changed.Any(r => r.QueuedAny))
                await NotifyQueuedAsync(connection, tx, changed.Any(r => r.QueuedConstrained), ct);
        }
        await tx.CommitAsync(ct);
        Count(changed);
        var finished = changed.Where(r => r.RunFinished).Select(r => (r.DagId, r.Graph.Plan.MaxActiveRuns)).ToList();
        if (finished.Count > 0)
            await TryStartWaitingRunsAsync(connection, finished, ct);
    }

    /// <summary>
    /// The metrics of a committed epilogue, from what the transactions tracked anyway: every
    /// task that ended (or went up for retry) and every run that finished, whatever path
    /// moved it (an outcome, a cascade of skips, a mark, a cancel).
    /// </summary>
    private void Count(List<RunTransaction> changed)
    {
        foreach (var run in changed)
        {
            foreach (var (_, _, state) in run.Changes)
                if (TaskStates.IsFinal(state) || state == TaskStates.UpForRetry)
                    metrics.TaskFinished(state, run.DagName);
            if (run.RunFinished)
                metrics.RunFinished(run.State, run.DagName);
        }
    }

    /// <summary>
    /// Starts the oldest queued runs of these DAGs while each is under max_active_runs, in a
    /// transaction of its own, AFTER the transaction that finished runs of them (or queued runs
    /// of them) committed. Why after, and why on both sides: a finishing transaction cannot see
    /// a run queued by a creation that has not committed, and that creation counted the
    /// finishing run as running. So each side looks once its own change is visible: whichever
    /// looks last sees both, and the run starts (under the DAG's run-start lock, which keeps
    /// max_active_runs exact). Looking first without the lock means a finishing run of a DAG
    /// with nothing waiting (the common case, e.g. 200 runs of one DAG under a high
    /// max_active_runs) costs one index probe and never waits on that lock. A process that dies
    /// between the commit and this leaves the queued run to <see cref="StartStrandedRunsAsync"/>.
    /// Failures are logged, not thrown: the caller's work is committed and must not be redone.
    /// </summary>
    public async Task<int> TryStartWaitingRunsAsync(NpgsqlConnection connection, IReadOnlyCollection<(long DagId, int Max)> dags, CancellationToken ct)
    {
        try
        {
            return await StartWaitingRunsAsync(connection, dags, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "Starting the waiting runs of {Count} DAG(s) failed; the scheduler loop's sweep starts them", dags.Count);
            return 0;
        }
    }

    private async Task<int> StartWaitingRunsAsync(NpgsqlConnection connection, IReadOnlyCollection<(long DagId, int Max)> dags, CancellationToken ct)
    {
        var candidates = dags.GroupBy(d => d.DagId).Select(g => (DagId: g.Key, Max: g.Max(d => d.Max))).ToList();
        var waiting = new HashSet<long>();
        // DAGs with runs waiting, or with a backfill under way (whose end is decided below).
        await using (var probe = new NpgsqlCommand("""
            select distinct dag_id from runs.dag_runs where dag_id = any(@ids) and state = 'queued'
            union select dag_id from runs.backfills where dag_id = any(@ids) and state = 'running'
            """, connection))
        {
            probe.Parameters.AddWithValue("ids", candidates.Select(d => d.DagId).ToArray());
            await using var reader = await probe.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                waiting.Add(reader.GetInt64(0));
        }
        candidates = candidates.Where(d => waiting.Contains(d.DagId)).OrderBy(d => d.DagId).ToList();
        if (candidates.Count == 0)
            return 0;
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Under the lock the count and the queue are read afresh (each statement's snapshot
        // follows the lock), so what creation committed meanwhile is seen.
        await LockDagsAsync(connection, tx, candidates.Select(d => d.DagId), ct);
        var next = new List<long>();
        await using (var cmd = new NpgsqlCommand("""
            select w.id
            from unnest(@dags, @max) as d(dag_id, max)
            cross join lateral (
                select id, logical_date from runs.dag_runs
                where dag_id = d.dag_id and state = 'queued' and backfill_id is null
                order by logical_date, id
                limit greatest(0, d.max - (select count(*) from runs.dag_runs where dag_id = d.dag_id and state = 'running' and backfill_id is null))) w
            order by d.dag_id, w.logical_date, w.id
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("dags", candidates.Select(d => d.DagId).ToArray());
            cmd.Parameters.AddWithValue("max", candidates.Select(d => d.Max).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                next.Add(reader.GetInt64(0));
        }
        next.AddRange(await BackfillStarts.NextAsync(connection, tx, candidates.Select(d => d.DagId).ToArray(), ct));
        // Still queued once locked: a cancel does not take the DAG's lock.
        var started = (await BeginManyAsync(connection, tx, next, ct)).Values.Where(r => r.State == RunStates.Queued).ToList();
        foreach (var run in started)
        {
            await run.SetAsync(run.Graph.Roots.Select(t => t.Id).ToList(), TaskStates.Queued, [TaskStates.Pending], ct);
            run.ForceState(RunStates.Running);
        }
        if (started.Count > 0)
        {
            await RunTransaction.SaveRunsAsync(started, ct);
            await Events.RunEvents.AppendAsync(connection, tx, started, ct);
            if (started.Any(r => r.QueuedAny))
                await NotifyQueuedAsync(connection, tx, started.Any(r => r.QueuedConstrained), ct);
        }
        await tx.CommitAsync(ct);
        return started.Count;
    }

    /// <summary>
    /// The safety net of <see cref="TryStartWaitingRunsAsync"/>: every DAG with queued runs is
    /// looked at (one probe of a partial index; the lock only for DAGs with runs waiting).
    /// Run by the scheduler loop's maintenance. Returns how many runs it started.
    /// </summary>
    public async Task<int> StartStrandedRunsAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var dags = new List<(long DagId, int Version)>();
        await using (var cmd = new NpgsqlCommand("""
            select dag_id, max(dag_version) from runs.dag_runs where state = 'queued' group by dag_id
            union select b.dag_id, max(r.dag_version) from runs.backfills b join runs.dag_runs r on r.backfill_id = b.id where b.state = 'running' group by b.dag_id
            """, connection))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                dags.Add((reader.GetInt64(0), reader.GetInt32(1)));
        }
        var limits = new List<(long DagId, int Max)>();
        foreach (var (dagId, version) in dags)
            if (await Plan(dagId, version) is { } plan)
                limits.Add((dagId, plan.MaxActiveRuns));
        if (limits.Count == 0)
            return 0;
        var started = await StartWaitingRunsAsync(connection, limits, ct);
        if (started > 0)
            logger.LogInformation("Started {Count} queued run(s) that were left waiting", started);
        return started;
    }

    /// <summary>
    /// The run-start lock of a DAG, <c>pg_advisory_xact_lock(1, dag_id % int.MaxValue)</c>:
    /// held by whatever starts runs of the DAG or decides it has none active (deleting it).
    /// Taken in key order, so two transactions locking overlapping sets wait, not deadlock.
    /// </summary>
    public static async Task LockDagsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IEnumerable<long> dagIds, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select pg_advisory_xact_lock(1, x) from unnest(@keys) as t(x) order by x", connection, tx);
        cmd.Parameters.AddWithValue("keys", dagIds.Select(id => (int)(id % int.MaxValue)).Distinct().Order().ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Wakes the claim loops; inside a transaction the NOTIFY is delivered at commit, so a
    /// worker never looks before the queued rows are visible.
    /// </summary>
    public static async Task NotifyQueuedAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, bool constrained, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"select pg_notify('{Channels.Queue}', @p)", connection, tx);
        cmd.Parameters.AddWithValue("p", constrained ? "c" : "");
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
