using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using Scheduler.Infrastructure.Telemetry;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <param name="Parent">The trace the run joins (a trigger request's); none starts a trace of its own.</param>
/// <param name="BackfillId">The backfill the run belongs to: it is created waiting and started by the backfill's own limit.</param>
/// <param name="Audit">The trigger's audit entry, written with the run (its id added to the details) in the creating transaction.</param>
internal sealed record NewRun(DagPlan Plan, DateTimeOffset LogicalDate, string RunType, JsonObject Conf, string? CreatedBy, ActivityContext Parent = default, long? BackfillId = null, AuditEntry? Audit = null);

/// <summary>
/// A condition checked, and recorded, in a creation's transaction after its DAGs' locks are
/// held: what makes a run that consumes something (asset events) exactly-once.
/// </summary>
internal interface IRunCreationGuard
{
    /// <summary>The runs to create after all, decided under the locks (fewer, or with their conf filled in); empty creates nothing.</summary>
    Task<IReadOnlyList<NewRun>> BeforeInsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<NewRun> runs, CancellationToken ct);

    /// <summary>Records what the created runs (null: not created) consumed, before the commit.</summary>
    Task AfterInsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<NewRun> runs, long?[] ids, CancellationToken ct);
}

/// <summary>
/// Creates runs in one transaction: one INSERT for the runs, one for all their task instances
/// (10,000 scheduled runs in a minute are a few statements, not 10,000 transactions).
/// </summary>
internal sealed class RunCreator(NpgsqlDataSource dataSource, RunUnitOfWork unit, SchedulerMetrics metrics)
{
    /// <summary>
    /// Duplicates of an existing (dag, logical date) are skipped: that is what makes a
    /// repeated firing a no-op. A run starts at once unless its DAG already has
    /// max_active_runs running; then it waits as queued. Returns the created runs' ids, with
    /// null for a duplicate or for a run of a DAG deleted meanwhile. With a <paramref name="guard"/>,
    /// the ids are those of the runs it kept, in its order.
    /// </summary>
    public async Task<long?[]> CreateRunsAsync(IReadOnlyList<NewRun> runs, CancellationToken ct, IRunCreationGuard? guard = null)
    {
        // A deadlock victim is rolled back whole and creation is idempotent (unique key), so
        // trying again is safe; seen with several scans racing while the server's own loops run.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CreateRunsOnceAsync(runs, guard, ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 3)
            {
                await Task.Delay(Random.Shared.Next(5, 50) * attempt, ct);
            }
        }
    }

    private async Task<long?[]> CreateRunsOnceAsync(IReadOnlyList<NewRun> runs, IRunCreationGuard? guard, CancellationToken ct)
    {
        if (runs.Count == 0)
            return [];
        // PostgreSQL keeps microseconds; normalise so the dates we match on are the stored ones.
        runs = runs.Select(r => r with { LogicalDate = ToMicroseconds(r.LogicalDate) }).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var dagIds = runs.Select(r => r.Plan.DagId).Distinct().Order().ToArray();
        // Serialises run starts per DAG with whatever else starts runs of it (waiting runs
        // started after a run finished) and with deleting it (which checks under this lock that no run is active).
        await RunUnitOfWork.LockDagsAsync(connection, tx, dagIds, ct);
        if (guard is not null && (runs = await guard.BeforeInsertAsync(connection, tx, runs, ct)).Count == 0)
            return [];
        var running = new Dictionary<long, int>();
        var waiting = new HashSet<long>();
        await using (var cmd = new NpgsqlCommand("""
            select d.id,
                   (select count(*) from runs.dag_runs r where r.dag_id = d.id and r.state = 'running' and r.backfill_id is null)::int,
                   exists (select 1 from runs.dag_runs q where q.dag_id = d.id and q.state = 'queued' and q.backfill_id is null)
            from unnest(@ids) as d(id)
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("ids", dagIds);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                running[reader.GetInt64(0)] = reader.GetInt32(1);
                if (reader.GetBoolean(2))
                    waiting.Add(reader.GetInt64(0));
            }
        }
        // Backfill runs neither count against nor wait for the DAG's max_active_runs: their
        // backfill starts them under its own limit, so they never starve scheduled runs.
        var scheduled = runs.Select((r, i) => (r, i)).Where(x => x.r.BackfillId is null).ToList();
        var decided = RunStartPolicy.Decide(scheduled.Select(x => (x.r.Plan.DagId, x.r.Plan.MaxActiveRuns, x.r.LogicalDate)).ToList(), running, waiting);
        var starts = new bool[runs.Count];
        for (var k = 0; k < scheduled.Count; k++)
            starts[scheduled[k].i] = decided[k];

        // One trace per run: the span of its creation, ended once the run is committed.
        var spans = runs.Select(r => RunTracing.StartRunCreation(r.Plan.Name, r.RunType, r.LogicalDate, r.Parent)).ToArray();
        var traceParents = runs.Select((r, i) => spans[i]?.Id ?? RunTracing.NewTraceParent(r.Parent)).ToArray();
        try
        {
            return await InsertRunsAsync(connection, tx, runs, starts, traceParents, spans, guard, ct);
        }
        finally
        {
            foreach (var span in spans)
                span?.Dispose();
        }
    }

    private async Task<long?[]> InsertRunsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<NewRun> runs, bool[] starts,
        string[] traceParents, Activity?[] spans, IRunCreationGuard? guard, CancellationToken ct)
    {
        var ids = new long?[runs.Count];
        // The pinned version must still exist once the DAG's lock is held: a delete that won
        // the lock first has removed it, and a run without its plan could never finish. This
        // reads the Dags module's table in SQL, not through its contract, because only a read
        // inside this transaction, after the lock, is ordered against the delete; a contract
        // request runs on another connection and its answer may be stale by the insert.
        await using (var cmd = new NpgsqlCommand("""
            insert into runs.dag_runs (dag_id, dag_name, dag_version, logical_date, run_type, state, conf, params, max_active_tasks, unfinished_tasks, created_by, queued_at, started_at, sla_deadline, traceparent, backfill_id, run_timeout)
            select d, n, v, l, t, s, c, p, m, u, b, now(), case when s = 'running' then clock_timestamp() end,
                   case when t in ('manual', 'backfill') then now() else l end + sla, tp, bf, rt
            from unnest(@d, @n, @v, @l, @t, @s, @c, @p, @m, @u, @b, @sla, @tp, @bf, @rt) with ordinality as x(d, n, v, l, t, s, c, p, m, u, b, sla, tp, bf, rt, i)
            where exists (select 1 from dags.dag_versions dv where dv.dag_id = x.d and dv.version = x.v)
            order by i
            on conflict (dag_id, logical_date) do nothing
            returning id, dag_id, logical_date
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("d", runs.Select(r => r.Plan.DagId).ToArray());
            cmd.Parameters.AddWithValue("n", runs.Select(r => r.Plan.Name).ToArray());
            cmd.Parameters.AddWithValue("v", runs.Select(r => r.Plan.Version).ToArray());
            cmd.Parameters.AddWithValue("l", runs.Select(r => r.LogicalDate).ToArray());
            cmd.Parameters.AddWithValue("t", runs.Select(r => r.RunType).ToArray());
            cmd.Parameters.AddWithValue("s", starts.Select(s => s ? RunStates.Running : RunStates.Queued).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter("c", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = runs.Select(r => r.Conf.ToJsonString()).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = runs.Select(r => MergeParams(r.Plan.Params, r.Conf).ToJsonString()).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("m", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = runs.Select(r => (object?)r.Plan.MaxActiveTasks ?? DBNull.Value).ToArray() });
            cmd.Parameters.AddWithValue("u", runs.Select(r => r.Plan.Tasks.Count).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter("b", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = runs.Select(r => (object?)r.CreatedBy ?? DBNull.Value).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("sla", NpgsqlDbType.Array | NpgsqlDbType.Interval) { Value = runs.Select(r => (object?)r.Plan.Sla ?? DBNull.Value).ToArray() });
            cmd.Parameters.AddWithValue("tp", traceParents);
            cmd.Parameters.Add(new NpgsqlParameter("rt", NpgsqlDbType.Array | NpgsqlDbType.Interval) { Value = runs.Select(r => (object?)r.Plan.Timeout ?? DBNull.Value).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("bf", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = runs.Select(r => (object?)r.BackfillId ?? DBNull.Value).ToArray() });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            var index = runs.Select((r, i) => (r, i)).ToDictionary(x => (x.r.Plan.DagId, x.r.LogicalDate.UtcTicks), x => x.i);
            while (await reader.ReadAsync(ct))
                ids[index[(reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2).UtcTicks)]] = reader.GetInt64(0);
        }
        for (var i = 0; i < runs.Count; i++)
            if (ids[i] is { } runId)
                spans[i]?.SetTag("scheduler.run_id", runId);
            else
                spans[i]?.SetTag("scheduler.duplicate", true);

        // All task instances of all new runs in one statement.
        var tiRun = new List<long>();
        var tiTask = new List<string>();
        var tiState = new List<string>();
        var tiMax = new List<int>();
        var tiPriority = new List<int>();
        var tiPool = new List<string>();
        var tiConstrained = new List<bool>();
        var queuedConstrained = false;
        var queuedAny = false;
        for (var i = 0; i < runs.Count; i++)
        {
            if (ids[i] is not { } runId)
                continue;
            var graph = RunGraph.For(runs[i].Plan);
            var roots = graph.Roots.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var task in runs[i].Plan.Tasks)
            {
                var constrained = task.Pool != "default" || runs[i].Plan.MaxActiveTasks is not null;
                var queued = starts[i] && roots.Contains(task.Id);
                tiRun.Add(runId);
                tiTask.Add(task.Id);
                tiState.Add(queued ? TaskStates.Queued : TaskStates.Pending);
                tiMax.Add(task.MaxAttempts);
                tiPriority.Add(task.Priority);
                tiPool.Add(task.Pool);
                tiConstrained.Add(constrained);
                queuedAny |= queued;
                queuedConstrained |= queued && constrained;
            }
        }
        if (tiRun.Count > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                insert into runs.task_instances (run_id, task_id, state, max_attempts, priority, pool, constrained, queued_at)
                select r, t, s, m, p, o, c, case when s = 'queued' then now() end
                from unnest(@r, @t, @s, @m, @p, @o, @c) as x(r, t, s, m, p, o, c)
                """, connection, tx);
            cmd.Parameters.AddWithValue("r", tiRun.ToArray());
            cmd.Parameters.AddWithValue("t", tiTask.ToArray());
            cmd.Parameters.AddWithValue("s", tiState.ToArray());
            cmd.Parameters.AddWithValue("m", tiMax.ToArray());
            cmd.Parameters.AddWithValue("p", tiPriority.ToArray());
            cmd.Parameters.AddWithValue("o", tiPool.ToArray());
            cmd.Parameters.AddWithValue("c", tiConstrained.ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        if (queuedAny)
            await RunUnitOfWork.NotifyQueuedAsync(connection, tx, queuedConstrained, ct);
        await Events.RunEvents.AppendAsync(connection, tx, CreationEvents(runs, ids, starts, tiRun, tiTask, tiState), ct);
        if (guard is not null)
            await guard.AfterInsertAsync(connection, tx, runs, ids, ct);
        await AuditLog.WriteAsync(connection, tx, runs.Select((r, i) => (r.Audit, Id: ids[i]))
            .Where(x => x.Audit is not null && x.Id is not null)
            .Select(x => x.Audit! with { Details = new JsonObject(x.Audit.Details.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))) { ["run_id"] = x.Id } })
            .ToList(), ct);
        await tx.CommitAsync(ct);
        for (var i = 0; i < runs.Count; i++)
            if (ids[i] is not null)
                metrics.RunsCreated(runs[i].RunType, runs[i].Plan.Name);
        // Runs created waiting: a run of their DAG that finished while this transaction was open
        // could not see them, so look again now that they are visible.
        var created = runs.Where((r, i) => ids[i] is not null && !starts[i]).Select(r => (r.Plan.DagId, r.Plan.MaxActiveRuns)).ToList();
        if (created.Count > 0)
            await unit.TryStartWaitingRunsAsync(connection, created, ct);
        return ids;
    }

    /// <summary>A new run's events: <c>queued</c> (its creation), <c>running</c> when it starts at once, and its root tasks' <c>queued</c>.</summary>
    private static List<Events.RunEvents.Row> CreationEvents(IReadOnlyList<NewRun> runs, long?[] ids, bool[] starts, List<long> tiRun, List<string> tiTask, List<string> tiState)
    {
        var rows = new List<Events.RunEvents.Row>();
        var dagOf = new Dictionary<long, string>();
        for (var i = 0; i < runs.Count; i++)
        {
            if (ids[i] is not { } runId)
                continue;
            dagOf[runId] = runs[i].Plan.Name;
            rows.Add(new(runs[i].Plan.Name, runId, null, RunStates.Queued));
            if (starts[i])
                rows.Add(new(runs[i].Plan.Name, runId, null, RunStates.Running));
        }
        for (var k = 0; k < tiRun.Count; k++)
            if (tiState[k] == TaskStates.Queued)
                rows.Add(new(dagOf[tiRun[k]], tiRun[k], tiTask[k], TaskStates.Queued));
        return rows;
    }

    public static DateTimeOffset ToMicroseconds(DateTimeOffset value) =>
        new(value.UtcTicks - value.UtcTicks % 10, TimeSpan.Zero);

    public static JsonObject MergeParams(JsonObject defaults, JsonObject conf)
    {
        var merged = defaults.DeepClone().AsObject();
        foreach (var (key, value) in conf)
            merged[key] = value?.DeepClone();
        return merged;
    }
}
