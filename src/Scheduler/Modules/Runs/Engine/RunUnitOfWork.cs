using Mediator;
using Npgsql;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// The unit of work over runs: opens run transactions (each run's row locked, its plan
/// loaded) and ends them with the one shared epilogue, so every path that changes task
/// states saves counters, writes events, starts waiting runs and wakes workers the same way.
/// </summary>
internal sealed class RunUnitOfWork(NpgsqlDataSource dataSource, ISender sender, TimeProvider clock)
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
    /// statement, their notification events in one, queued runs of finished runs' DAGs
    /// started, workers woken once, commit.
    /// </summary>
    public async Task CommitRunsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<RunTransaction> runs, CancellationToken ct)
    {
        var changed = runs.Where(r => r.Changes.Count > 0).ToList();
        if (changed.Count > 0)
        {
            await RunTransaction.SaveRunsAsync(changed, ct);
            await NotificationOutbox.WriteAsync(connection, tx, changed.SelectMany(r => r.Events).ToList(), ct);
            var finished = changed.Where(r => r.RunFinished).ToList();
            if (finished.Count > 0)
                await StartWaitingRunsAsync(connection, tx, finished, ct);
            if (changed.Any(r => r.QueuedAny))
                await NotifyQueuedAsync(connection, tx, changed.Any(r => r.QueuedConstrained), ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Starts the oldest queued runs of the finished runs' DAGs while each is under
    /// max_active_runs, in the transaction that just finished those runs.
    /// </summary>
    private async Task StartWaitingRunsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<RunTransaction> finished, CancellationToken ct)
    {
        var dags = finished.GroupBy(r => r.DagId).Select(g => (DagId: g.Key, Max: g.First().Graph.Plan.MaxActiveRuns)).OrderBy(d => d.DagId).ToList();
        // The same lock run creation takes: a run created meanwhile either sees these runs
        // finished or is visible to the select below (a fresh snapshot after the lock).
        await LockDagsAsync(connection, tx, dags.Select(d => d.DagId), ct);
        var waiting = new List<long>();
        await using (var cmd = new NpgsqlCommand("""
            select w.id
            from unnest(@dags, @max) as d(dag_id, max)
            cross join lateral (
                select id, logical_date from runs.dag_runs
                where dag_id = d.dag_id and state = 'queued'
                order by logical_date, id
                limit greatest(0, d.max - (select count(*) from runs.dag_runs where dag_id = d.dag_id and state = 'running'))) w
            order by d.dag_id, w.logical_date, w.id
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("dags", dags.Select(d => d.DagId).ToArray());
            cmd.Parameters.AddWithValue("max", dags.Select(d => d.Max).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                waiting.Add(reader.GetInt64(0));
        }
        foreach (var runId in waiting)
        {
            var next = (await BeginManyAsync(connection, tx, [runId], ct)).GetValueOrDefault(runId);
            if (next is null)
                continue;
            var roots = next.Graph.Roots.Select(t => t.Id).ToList();
            await next.SetAsync(roots, TaskStates.Queued, [TaskStates.Pending], ct);
            next.ForceState(RunStates.Running);
            await next.SaveRunAsync(ct);
            if (next.QueuedAny)
                await NotifyQueuedAsync(connection, tx, next.QueuedConstrained, ct);
        }
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
