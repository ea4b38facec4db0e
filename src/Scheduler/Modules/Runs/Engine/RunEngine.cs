using System.Text.Json;
using System.Text.Json.Nodes;
using Mediator;
using Npgsql;
using NpgsqlTypes;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

internal sealed record NewRun(DagPlan Plan, DateTimeOffset LogicalDate, string RunType, JsonObject Conf, string? CreatedBy);

/// <summary>
/// Every write the engine makes to runs and task instances, on raw Npgsql: these are the
/// hot paths (claim, complete) and the batch paths (10,000 scheduled runs in a minute).
/// </summary>
internal sealed class RunEngine(NpgsqlDataSource dataSource, ISender sender, ILogger<RunEngine> logger)
{
    private Task<DagPlan?> Plan(long dagId, int version) => sender.Send(new GetDagPlanVersion(dagId, version)).AsTask();

    // ---------------------------------------------------------------- creation

    /// <summary>
    /// Creates runs in one transaction: one INSERT for the runs (duplicates of an existing
    /// (dag, logical date) are skipped: that is what makes a repeated firing a no-op), one for
    /// all their task instances. A run starts at once unless its DAG already has
    /// max_active_runs running; then it waits as queued. Returns the created runs' ids,
    /// with null for a duplicate.
    /// </summary>
    public async Task<long?[]> CreateRunsAsync(IReadOnlyList<NewRun> runs, CancellationToken ct)
    {
        // A deadlock victim is rolled back whole and creation is idempotent (unique key), so
        // trying again is safe; seen with several scans racing while the server's own loops run.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CreateRunsOnceAsync(runs, ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 3)
            {
                await Task.Delay(Random.Shared.Next(5, 50) * attempt, ct);
            }
        }
    }

    private async Task<long?[]> CreateRunsOnceAsync(IReadOnlyList<NewRun> runs, CancellationToken ct)
    {
        if (runs.Count == 0)
            return [];
        // PostgreSQL keeps microseconds; normalise so the dates we match on are the stored ones.
        runs = runs.Select(r => r with { LogicalDate = ToMicroseconds(r.LogicalDate) }).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var dagIds = runs.Select(r => r.Plan.DagId).Distinct().Order().ToArray();
        // Serialises run starts per DAG with whatever else starts runs of it (finishing runs).
        await LockDagsAsync(connection, tx, dagIds, ct);
        var active = new Dictionary<long, int>();
        await using (var cmd = new NpgsqlCommand("select dag_id, count(*)::int from runs.dag_runs where dag_id = any(@ids) and state = 'running' group by dag_id", connection, tx))
        {
            cmd.Parameters.AddWithValue("ids", dagIds);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                active[reader.GetInt64(0)] = reader.GetInt32(1);
        }

        var starts = new bool[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            var dag = runs[i].Plan.DagId;
            var running = active.GetValueOrDefault(dag);
            starts[i] = running < runs[i].Plan.MaxActiveRuns;
            if (starts[i])
                active[dag] = running + 1;
        }

        var ids = new long?[runs.Count];
        await using (var cmd = new NpgsqlCommand("""
            insert into runs.dag_runs (dag_id, dag_name, dag_version, logical_date, run_type, state, conf, params, max_active_tasks, unfinished_tasks, created_by, queued_at, started_at, sla_deadline)
            select d, n, v, l, t, s, c, p, m, u, b, now(), case when s = 'running' then now() end,
                   case when t = 'manual' then now() else l end + sla
            from unnest(@d, @n, @v, @l, @t, @s, @c, @p, @m, @u, @b, @sla) with ordinality as x(d, n, v, l, t, s, c, p, m, u, b, sla, i)
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
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            var index = runs.Select((r, i) => (r, i)).ToDictionary(x => (x.r.Plan.DagId, x.r.LogicalDate.UtcTicks), x => x.i);
            while (await reader.ReadAsync(ct))
                ids[index[(reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2).UtcTicks)]] = reader.GetInt64(0);
        }

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
            await NotifyQueuedAsync(connection, tx, queuedConstrained, ct);
        await tx.CommitAsync(ct);
        return ids;
    }

    public static DateTimeOffset ToMicroseconds(DateTimeOffset value) =>
        new(value.UtcTicks - value.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>
    /// Takes the run-start lock of each DAG for the transaction, in key order (two transactions
    /// locking overlapping sets wait for each other instead of deadlocking).
    /// </summary>
    private static async Task LockDagsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IEnumerable<long> dagIds, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select pg_advisory_xact_lock(1, x) from unnest(@keys) as t(x) order by x", connection, tx);
        cmd.Parameters.AddWithValue("keys", dagIds.Select(id => (int)(id % int.MaxValue)).Distinct().Order().ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static JsonObject MergeParams(JsonObject defaults, JsonObject conf)
    {
        var merged = defaults.DeepClone().AsObject();
        foreach (var (key, value) in conf)
            merged[key] = value?.DeepClone();
        return merged;
    }

    private static async Task NotifyQueuedAsync(NpgsqlConnection connection, NpgsqlTransaction tx, bool constrained, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"select pg_notify('{Channels.Queue}', @p)", connection, tx);
        cmd.Parameters.AddWithValue("p", constrained ? "c" : "");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Starts the oldest queued runs of the finished runs' DAGs while each is under
    /// max_active_runs. Called in the transaction that just finished those runs.
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
            var next = await RunTransaction.BeginAsync(connection, tx, runId, Plan, ct);
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

    /// <summary>Runs <paramref name="work"/> inside a run transaction and commits, with the shared epilogue.</summary>
    public async Task<T?> InRunAsync<T>(long runId, Func<RunTransaction, Task<T?>> work, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var run = await RunTransaction.BeginAsync(connection, tx, runId, Plan, ct);
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
    private async Task CommitRunsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<RunTransaction> runs, CancellationToken ct)
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

    // ---------------------------------------------------------------- claiming

    /// <summary>
    /// Claims up to <paramref name="max"/> queued tasks for a worker in ONE statement:
    /// SKIP LOCKED lets replicas claim side by side without waiting on each other, the
    /// partial queue index keeps it an index scan, and the attempt row is written in the same
    /// statement. Constrained tasks (limited pools, max_active_tasks) are left to
    /// <see cref="ClaimConstrainedAsync"/>.
    /// </summary>
    public async Task<List<ClaimedTask>> ClaimAsync(string workerId, int max, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(ClaimSql("""
            select id from runs.task_instances
            where state = 'queued' and not constrained
            order by priority desc, queued_at, id
            limit @n
            for update skip locked
            """));
        cmd.Parameters.AddWithValue("n", max);
        return await ExecuteClaimAsync(cmd, workerId, lease, ct);
    }

    private static string ClaimSql(string pick) => $"""
        with picked as ({pick}),
        claimed as (
            update runs.task_instances ti
            set state = 'running', attempt = ti.attempt + 1, worker_id = @w, started_at = now(), lease_expires_at = now() + @lease
            from picked where ti.id = picked.id
            returning ti.id, ti.run_id, ti.task_id, ti.attempt, ti.started_at, ti.pool),
        attempts as (
            insert into runs.task_attempts (task_instance_id, attempt, run_id, task_id, worker_id, state, started_at)
            select id, attempt, run_id, task_id, @w, 'running', started_at from claimed
            on conflict (task_instance_id, attempt) do update
            set worker_id = excluded.worker_id, state = 'running', started_at = excluded.started_at, finished_at = null,
                deliveries = runs.task_attempts.deliveries + 1,
                log = runs.task_attempts.log || E'\n--- delivered again: the previous worker was lost ---\n')
        select c.id, c.run_id, c.task_id, c.attempt, r.dag_id, r.dag_name, r.dag_version, r.logical_date, r.params::text, c.pool
        from claimed c join runs.dag_runs r on r.id = c.run_id
        """;

    private static async Task<List<ClaimedTask>> ExecuteClaimAsync(NpgsqlCommand cmd, string workerId, TimeSpan lease, CancellationToken ct)
    {
        cmd.Parameters.AddWithValue("w", workerId);
        cmd.Parameters.AddWithValue("lease", lease);
        var claimed = new List<ClaimedTask>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            claimed.Add(new ClaimedTask(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4),
                reader.GetString(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetString(8), reader.GetString(9)));
        return claimed;
    }

    /// <summary>
    /// Claims tasks in limited pools or DAGs with max_active_tasks. Slot accounting must see
    /// every replica's claims, so these claims are serialised by an advisory lock and count
    /// running tasks under it; tasks that finish meanwhile only free slots, never overfill.
    /// </summary>
    public async Task<List<ClaimedTask>> ClaimConstrainedAsync(string workerId, int max, TimeSpan lease, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var probe = new NpgsqlCommand("select exists (select 1 from runs.task_instances where state = 'queued' and constrained)", connection))
            if (!(bool)(await probe.ExecuteScalarAsync(ct))!)
                return [];
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("select pg_advisory_xact_lock(2, 0)", connection, tx))
            await cmd.ExecuteNonQueryAsync(ct);

        var candidates = new List<(long Id, string Pool, long DagId, int? MaxActive)>();
        await using (var cmd = new NpgsqlCommand("""
            select ti.id, ti.pool, r.dag_id, r.max_active_tasks
            from runs.task_instances ti join runs.dag_runs r on r.id = ti.run_id
            where ti.state = 'queued' and ti.constrained
            order by ti.priority desc, ti.queued_at, ti.id
            limit 500
            for update of ti skip locked
            """, connection, tx))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                candidates.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt32(3)));
        if (candidates.Count == 0)
            return [];

        var poolFree = new Dictionary<string, int?>();
        await using (var cmd = new NpgsqlCommand("""
            select p.name, p.slots - (select count(*)::int from runs.task_instances r where r.state = 'running' and r.pool = p.name)
            from runs.pools p where p.name = any(@pools)
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("pools", candidates.Select(c => c.Pool).Distinct().ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                poolFree[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetInt32(1);
        }
        var dagRunning = new Dictionary<long, int>();
        await using (var cmd = new NpgsqlCommand("""
            select r.dag_id, count(*)::int from runs.task_instances ti join runs.dag_runs r on r.id = ti.run_id
            where ti.state = 'running' and r.dag_id = any(@dags) group by r.dag_id
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("dags", candidates.Select(c => c.DagId).Distinct().ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                dagRunning[reader.GetInt64(0)] = reader.GetInt32(1);
        }

        var chosen = new List<long>();
        foreach (var c in candidates)
        {
            if (chosen.Count >= max)
                break;
            // A pool nobody defined has no cap: the task is not held hostage by a typo.
            var free = poolFree.TryGetValue(c.Pool, out var f) ? f : null;
            if (free is <= 0)
                continue;
            var running = dagRunning.GetValueOrDefault(c.DagId);
            if (c.MaxActive is { } cap && running >= cap)
                continue;
            chosen.Add(c.Id);
            if (free is not null)
                poolFree[c.Pool] = free - 1;
            dagRunning[c.DagId] = running + 1;
        }
        if (chosen.Count == 0)
            return [];
        await using var claim = new NpgsqlCommand(ClaimSql("select unnest(@ids) as id"), connection, tx);
        claim.Parameters.AddWithValue("ids", chosen.ToArray());
        var claimed = await ExecuteClaimAsync(claim, workerId, lease, ct);
        await tx.CommitAsync(ct);
        return claimed;
    }

    // ---------------------------------------------------------------- completion

    /// <summary>
    /// Records attempts' outcomes (all of one run) and everything that follows in ONE
    /// transaction: the retry policy or the final state, dead letters when retries are used
    /// up, downstream trigger rules, the run's end, the next waiting run. Batching matters:
    /// a claim hands a worker neighbouring tasks of the same run, whose completions would
    /// otherwise queue one by one on the run's row lock. A report for an attempt that is no
    /// longer this worker's (its lease expired and it went to another worker, or the run was
    /// cancelled) changes nothing but keeps its log. Returns how many reports counted.
    /// </summary>
    public async Task<int> CompleteAsync(IReadOnlyList<CompleteTask> completions, CancellationToken ct)
    {
        if (completions.Count == 0)
            return 0;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var runs = await RunTransaction.BeginManyAsync(connection, tx, completions.Select(c => c.RunId).ToList(), Plan, ct);
        // A run deleted meanwhile takes its reports with it.
        completions = completions.Where(c => runs.ContainsKey(c.RunId)).ToList();
        var current = new Dictionary<long, (int Attempt, string? Worker, int MaxAttempts)>();
        await using (var cmd = new NpgsqlCommand("select id, attempt, worker_id, max_attempts from runs.task_instances where id = any(@ids) and state = 'running' order by id for update", connection, tx))
        {
            cmd.Parameters.AddWithValue("ids", completions.Select(c => c.TaskInstanceId).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                current[reader.GetInt64(0)] = (reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt32(3));
        }
        var valid = new List<(CompleteTask C, string State, DateTimeOffset? NotBefore, string AttemptState)>();
        var stale = new List<CompleteTask>();
        foreach (var c in completions)
        {
            if (!current.TryGetValue(c.TaskInstanceId, out var row) || row.Attempt != c.Attempt || row.Worker != c.WorkerId)
            {
                stale.Add(c);
                continue;
            }
            var plan = runs[c.RunId].Graph.Tasks.GetValueOrDefault(c.TaskId);
            var (state, notBefore) = c.Outcome switch
            {
                AttemptOutcome.Success => (TaskStates.Success, (DateTimeOffset?)null),
                AttemptOutcome.Skipped => (TaskStates.Skipped, null),
                _ when c.Attempt < row.MaxAttempts && plan is not null => (TaskStates.UpForRetry,
                    DateTimeOffset.UtcNow + RetryBackoff.Delay(plan.RetryDelay, plan.ExponentialBackoff, plan.MaxRetryDelay, c.Attempt, Random.Shared.NextDouble())),
                _ => (TaskStates.Failed, null),
            };
            valid.Add((c, state, notBefore, c.Outcome switch
            {
                AttemptOutcome.Success => "success",
                AttemptOutcome.Skipped => "skipped",
                AttemptOutcome.TimedOut => "timed_out",
                AttemptOutcome.Cancelled => "cancelled",
                _ => "failed",
            }));
        }

        if (valid.Count > 0)
        {
            await using (var cmd = new NpgsqlCommand("""
                update runs.task_instances ti
                set state = v.s, finished_at = case when v.s = 'up_for_retry' then null else now() end,
                    not_before = v.nb, worker_id = null, lease_expires_at = null
                from unnest(@ids, @states, @nb) as v(id, s, nb) where ti.id = v.id
                """, connection, tx))
            {
                cmd.Parameters.AddWithValue("ids", valid.Select(v => v.C.TaskInstanceId).ToArray());
                cmd.Parameters.AddWithValue("states", valid.Select(v => v.State).ToArray());
                cmd.Parameters.Add(new NpgsqlParameter("nb", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = valid.Select(v => (object?)v.NotBefore ?? DBNull.Value).ToArray() });
                await cmd.ExecuteNonQueryAsync(ct);
            }
            foreach (var v in valid)
            {
                var run = runs[v.C.RunId];
                run.Track(v.C.TaskId, TaskStates.Running, v.State);
                if (v.State == TaskStates.UpForRetry)
                    run.AddEvent(NotificationEvents.TaskRetry, $"retry:{v.C.TaskInstanceId}:{v.C.Attempt}", v.C.TaskId, v.C.Attempt, v.C.Error);
                else if (v.State == TaskStates.Failed)
                {
                    run.AddEvent(NotificationEvents.TaskFailure, $"task_failure:{v.C.TaskInstanceId}:{v.C.Attempt}", v.C.TaskId, v.C.Attempt, v.C.Error);
                    run.AddEvent(NotificationEvents.DeadLetter, $"dead_letter:{v.C.TaskInstanceId}:{v.C.Attempt}", v.C.TaskId, v.C.Attempt, v.C.Error);
                }
            }
            await WriteAttemptsAsync(connection, tx, valid.Select(v => (v.C, (string?)v.AttemptState)).ToList(), ct);
            var dead = valid.Where(v => v.State == TaskStates.Failed).ToList();
            if (dead.Count > 0)
            {
                await using var cmd = new NpgsqlCommand("""
                    insert into runs.dead_letters (task_instance_id, run_id, dag_name, task_id, attempts, error, created_at)
                    select id, run, dag, task, attempts, error, now() from unnest(@ids, @runs, @dags, @tasks, @attempts, @errors) as v(id, run, dag, task, attempts, error)
                    """, connection, tx);
                cmd.Parameters.AddWithValue("ids", dead.Select(v => v.C.TaskInstanceId).ToArray());
                cmd.Parameters.AddWithValue("runs", dead.Select(v => v.C.RunId).ToArray());
                cmd.Parameters.AddWithValue("dags", dead.Select(v => runs[v.C.RunId].DagName).ToArray());
                cmd.Parameters.AddWithValue("tasks", dead.Select(v => v.C.TaskId).ToArray());
                cmd.Parameters.AddWithValue("attempts", dead.Select(v => v.C.Attempt).ToArray());
                cmd.Parameters.Add(new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = dead.Select(v => (object?)v.C.Error ?? DBNull.Value).ToArray() });
                await cmd.ExecuteNonQueryAsync(ct);
            }
            // Trigger rules per run, and only where a finished task has something downstream.
            foreach (var group in valid.Where(v => TaskStates.IsFinal(v.State)).GroupBy(v => v.C.RunId))
            {
                var run = runs[group.Key];
                var final = group.Select(v => v.C.TaskId).Where(t => run.Graph.Downstream.TryGetValue(t, out var next) && next.Length > 0).ToList();
                if (final.Count > 0)
                    await run.ResolveDownstreamAsync(final, ct);
            }
        }
        if (stale.Count > 0)
            await WriteAttemptsAsync(connection, tx, stale.Select(c => (c, (string?)null)).ToList(), ct);
        await CommitRunsAsync(connection, tx, runs.Values.ToList(), ct);
        return valid.Count;
    }

    /// <summary>Finishes attempt rows; a null state only appends the log (a stale report keeps its evidence).</summary>
    private static async Task WriteAttemptsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<(CompleteTask C, string? State)> attempts, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            update runs.task_attempts a
            set state = coalesce(v.s, a.state),
                finished_at = case when v.s is null then a.finished_at else now() end,
                code = case when v.s is null then a.code else v.code end,
                error = case when v.s is null then a.error else v.e end,
                log = left(a.log || v.log, @cap)
            from unnest(@ids, @attempts, @states, @codes, @errors, @logs) as v(id, attempt, s, code, e, log)
            where a.task_instance_id = v.id and a.attempt = v.attempt
            """, connection, tx);
        cmd.Parameters.AddWithValue("ids", attempts.Select(a => a.C.TaskInstanceId).ToArray());
        cmd.Parameters.AddWithValue("attempts", attempts.Select(a => a.C.Attempt).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("states", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attempts.Select(a => (object?)a.State ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("codes", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = attempts.Select(a => (object?)a.C.Code ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attempts.Select(a => (object?)a.C.Error ?? DBNull.Value).ToArray() });
        cmd.Parameters.AddWithValue("logs", attempts.Select(a => a.C.LogTail ?? "").ToArray());
        cmd.Parameters.AddWithValue("cap", LogCap);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Characters of log kept per attempt; the rest is dropped with a marker by the worker.</summary>
    public const int LogCap = 1_000_000;

    public async Task AppendLogAsync(long taskInstanceId, int attempt, string text, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("update runs.task_attempts set log = left(log || @log, @cap) where task_instance_id = @id and attempt = @a and state = 'running'");
        cmd.Parameters.AddWithValue("log", text);
        cmd.Parameters.AddWithValue("cap", LogCap);
        cmd.Parameters.AddWithValue("id", taskInstanceId);
        cmd.Parameters.AddWithValue("a", attempt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    // ---------------------------------------------------------------- leases and retries

    /// <summary>
    /// Extends the leases of a worker's running tasks and returns the ones it holds that are
    /// no longer running for it (cancelled or reassigned), which it must stop.
    /// </summary>
    public async Task<IReadOnlyList<long>> HeartbeatAsync(string workerId, IReadOnlyCollection<long> running, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            with extended as (
                update runs.task_instances set lease_expires_at = now() + @lease
                where worker_id = @w and state = 'running' and id = any(@ids)
                returning id)
            select x from unnest(@ids) as x where x not in (select id from extended)
            """);
        cmd.Parameters.AddWithValue("lease", lease);
        cmd.Parameters.AddWithValue("w", workerId);
        cmd.Parameters.AddWithValue("ids", running.ToArray());
        var lost = new List<long>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            lost.Add(reader.GetInt64(0));
        return lost;
    }

    /// <summary>
    /// Requeues running tasks whose lease expired: their worker died or lost the database.
    /// The attempt number is kept, so the re-delivery carries the same idempotency key:
    /// this is what makes execution AT LEAST once, never zero times.
    /// </summary>
    public async Task<int> ReapExpiredLeasesAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            with expired as (
                select id from runs.task_instances
                where state = 'running' and lease_expires_at < now()
                for update skip locked),
            requeued as (
                update runs.task_instances ti
                set state = 'queued', attempt = ti.attempt - 1, worker_id = null, lease_expires_at = null, queued_at = now()
                from expired where ti.id = expired.id
                returning ti.id, ti.attempt + 1 as attempt, ti.constrained)
            update runs.task_attempts a set state = 'lost', finished_at = now()
            from requeued r where a.task_instance_id = r.id and a.attempt = r.attempt
            returning r.constrained
            """);
        var count = await RequeuedAsync(cmd, ct);
        if (count > 0)
            logger.LogWarning("Requeued {Count} task(s) whose worker lease expired", count);
        return count;
    }

    /// <summary>Moves tasks waiting out their retry delay back to the queue once it has passed.</summary>
    /// <summary>
    /// Stamps unfinished runs whose SLA deadline passed and writes one sla_miss event each,
    /// in one transaction. The partial index holds only unfinished runs with a deadline.
    /// </summary>
    public async Task<int> MarkSlaMissesAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var events = new List<OutboxEvent>();
        await using (var cmd = new NpgsqlCommand("""
            update runs.dag_runs set sla_missed_at = now()
            where sla_deadline <= now() and sla_missed_at is null and state in ('queued', 'running')
            returning id, dag_name, sla_deadline
            """, connection, tx))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                events.Add(new OutboxEvent(NotificationEvents.SlaMiss, $"sla_miss:{reader.GetInt64(0)}", reader.GetString(1), reader.GetInt64(0),
                    Detail: $"Not finished by its SLA deadline {reader.GetFieldValue<DateTimeOffset>(2):yyyy-MM-dd'T'HH:mm:ss'Z'}."));
        }
        await NotificationOutbox.WriteAsync(connection, tx, events, ct);
        await tx.CommitAsync(ct);
        return events.Count;
    }

    public async Task<int> PromoteDueRetriesAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            update runs.task_instances set state = 'queued', queued_at = now(), not_before = null
            where state = 'up_for_retry' and not_before <= now()
            returning constrained
            """);
        return await RequeuedAsync(cmd, ct);
    }

    /// <summary>
    /// What the scheduler loop must wake for, in one statement over three partial indexes:
    /// whether any task is queued or running (its lease may expire, so maintenance keeps its
    /// short period), the earliest retry due, and the earliest SLA deadline not yet missed.
    /// </summary>
    public async Task<QueueDeadlines> QueueDeadlinesAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select exists (select 1 from runs.task_instances where state = 'running')
                or exists (select 1 from runs.task_instances where state = 'queued' and not constrained)
                or exists (select 1 from runs.task_instances where state = 'queued' and constrained),
                (select min(not_before) from runs.task_instances where state = 'up_for_retry'),
                (select min(sla_deadline) from runs.dag_runs where sla_missed_at is null and state in ('queued', 'running'))
            """);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new QueueDeadlines(reader.GetBoolean(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// <summary>Runs a statement returning one <c>constrained</c> flag per requeued task; wakes the workers if any.</summary>
    private async Task<int> RequeuedAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var count = 0;
        var constrained = false;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                count++;
                constrained |= reader.GetBoolean(0);
            }
        if (count > 0)
            await NotifyAsync(constrained, ct);
        return count;
    }

    private async Task NotifyAsync(bool constrained, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"select pg_notify('{Channels.Queue}', @p)");
        cmd.Parameters.AddWithValue("p", constrained ? "c" : "");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Gives tasks back to the queue on graceful shutdown, under the same attempt number
    /// (they were interrupted, not failed).
    /// </summary>
    public async Task<int> ReleaseAsync(string workerId, IReadOnlyCollection<long> taskInstanceIds, CancellationToken ct)
    {
        if (taskInstanceIds.Count == 0)
            return 0;
        await using var cmd = dataSource.CreateCommand("""
            with released as (
                update runs.task_instances ti
                set state = 'queued', attempt = ti.attempt - 1, worker_id = null, lease_expires_at = null, queued_at = now()
                where ti.id = any(@ids) and ti.worker_id = @w and ti.state = 'running'
                returning ti.id, ti.attempt + 1 as attempt)
            update runs.task_attempts a set state = 'interrupted', finished_at = now(),
                log = a.log || E'\n--- interrupted: the worker shut down; the task was requeued ---\n'
            from released r where a.task_instance_id = r.id and a.attempt = r.attempt
            """);
        cmd.Parameters.AddWithValue("ids", taskInstanceIds.ToArray());
        cmd.Parameters.AddWithValue("w", workerId);
        var released = await cmd.ExecuteNonQueryAsync(ct);
        await NotifyAsync(true, ct);
        return released;
    }

    // ---------------------------------------------------------------- operator actions

    /// <summary>Cancels every task that has not finished; running ones are told to stop.</summary>
    public Task<CancelResult?> CancelRunAsync(long runId, CancellationToken ct) => InRunAsync(runId, async run =>
    {
        if (RunStates.IsFinal(run.State))
            return new CancelResult(false, run.State);
        var open = await OpenTasksAsync(run, ct);
        await run.SetAsync(open, TaskStates.Cancelled, [TaskStates.Pending, TaskStates.Queued, TaskStates.Running, TaskStates.UpForRetry], ct);
        await using (var cmd = run.Command("update runs.task_attempts set state = 'cancelled', finished_at = now() where task_instance_id in (select id from runs.task_instances where run_id = @r) and state = 'running'"))
        {
            cmd.Parameters.AddWithValue("r", runId);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        run.ForceState(RunStates.Cancelled);
        await using (var cmd = run.Command($"select pg_notify('{Channels.Cancel}', @p)"))
        {
            cmd.Parameters.AddWithValue("p", runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return new CancelResult(true, RunStates.Cancelled);
    }, ct);

    private static async Task<List<string>> OpenTasksAsync(RunTransaction run, CancellationToken ct)
    {
        var open = new List<string>();
        await using var cmd = run.Command("select task_id from runs.task_instances where run_id = @r and state in ('pending', 'queued', 'running', 'up_for_retry')");
        cmd.Parameters.AddWithValue("r", run.RunId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            open.Add(reader.GetString(0));
        return open;
    }

    /// <summary>
    /// Reruns a task inside its run (and with <paramref name="downstream"/> everything that
    /// depends on it, transitively). Cleared tasks get fresh attempts: the attempt counter
    /// continues and the task's retries apply again. A finished run re-opens.
    /// </summary>
    public Task<ClearResult?> ClearAsync(long runId, string taskId, bool downstream, CancellationToken ct) => InRunAsync(runId, async run =>
    {
        if (!run.Graph.Tasks.ContainsKey(taskId))
            return new ClearResult(false, []);
        var targets = new List<string> { taskId };
        if (downstream)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal) { taskId };
            for (var i = 0; i < targets.Count; i++)
                foreach (var next in run.Graph.Downstream[targets[i]])
                    if (seen.Add(next))
                        targets.Add(next);
        }
        var states = await run.StatesAsync(targets, ct);
        if (targets.Any(t => states[t] == TaskStates.Running))
            return new ClearResult(true, null);
        await using (var cmd = run.Command("update runs.task_instances set max_attempts = attempt + @extra where run_id = @r and task_id = any(@ids)"))
        {
            cmd.Parameters.AddWithValue("r", runId);
            cmd.Parameters.AddWithValue("ids", targets.ToArray());
            cmd.Parameters.AddWithValue("extra", run.Graph.Tasks[taskId].MaxAttempts);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var anyState = TaskStates.All.Where(s => s != TaskStates.Running).ToArray();
        await run.SetAsync(targets, TaskStates.Pending, anyState, ct);
        // Re-decide each cleared task from its upstream states, in graph order.
        var cleared = targets.ToHashSet(StringComparer.Ordinal);
        var upstreamOfCleared = targets.SelectMany(t => run.Graph.Tasks[t].DependsOn).Where(u => !cleared.Contains(u)).Distinct().ToList();
        var rootsAmongCleared = targets.Where(t => run.Graph.Tasks[t].DependsOn.Count == 0 || run.Graph.Tasks[t].TriggerRule == "always").ToList();
        await run.SetAsync(rootsAmongCleared, TaskStates.Queued, [TaskStates.Pending], ct);
        await run.ResolveDownstreamAsync(upstreamOfCleared, ct);
        return new ClearResult(true, targets);
    }, ct);

    /// <summary>Marks a task success or failed by hand; downstream follows as if it had run.</summary>
    public Task<MarkResult?> MarkAsync(long runId, string taskId, string state, CancellationToken ct) => InRunAsync(runId, async run =>
    {
        if (!run.Graph.Tasks.ContainsKey(taskId))
            return new MarkResult(false, false);
        var moved = await run.SetAsync([taskId], state, TaskStates.All.Where(s => s != state).ToArray(), ct);
        if (moved.Count > 0)
        {
            await using (var cmd = run.Command("update runs.task_attempts a set state = 'cancelled', finished_at = now() from runs.task_instances ti where ti.run_id = @r and ti.task_id = @t and a.task_instance_id = ti.id and a.state = 'running'"))
            {
                cmd.Parameters.AddWithValue("r", runId);
                cmd.Parameters.AddWithValue("t", taskId);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await run.ResolveDownstreamAsync([taskId], ct);
        }
        return new MarkResult(true, moved.Count > 0);
    }, ct);
}

internal sealed record CancelResult(bool Cancelled, string State);

internal sealed record ClearResult(bool Found, IReadOnlyList<string>? Cleared);

internal sealed record MarkResult(bool Found, bool Changed);

/// <summary>See <see cref="RunEngine.QueueDeadlinesAsync"/>.</summary>
internal sealed record QueueDeadlines(bool Active, DateTimeOffset? NextRetry, DateTimeOffset? NextSla);
