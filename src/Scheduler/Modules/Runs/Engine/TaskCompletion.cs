using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Runs.Contracts;

using Scheduler.Modules.Runs.Figures;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// Records the ends of attempts and everything that follows, on raw Npgsql (the hot path).
/// Text a task produced (log, error) is cleaned by <see cref="PostgresText.Clean"/> here, at
/// the database boundary, whatever the worker did: a NUL in a task's output must never make
/// its outcome unrecordable (the lease would expire and the task run again, forever).
/// </summary>
internal sealed class TaskCompletion(RunUnitOfWork unit, TimeProvider clock, MinuteFigures figures)
{
    /// <summary>Characters of log kept per attempt; the rest is dropped with a marker by the worker.</summary>
    public const int LogCap = 1_000_000;

    private sealed record Current(int Attempt, string? Worker, int MaxAttempts, bool LeaseExpired, int MapIndex);

    /// <param name="MapIndex">The reported row's: -1 for a task's own row, 0..n-1 for an instance of a mapped task.</param>
    /// <param name="Expand">The items a mapped task's own attempt rendered: its row stays running and they become its instances.</param>
    private sealed record Decided(CompleteTask Report, TaskDecision Decision, int MapIndex = -1, JsonArray? Expand = null);

    /// <summary>Queued tasks a completion's transaction may claim for the worker that reported it.</summary>
    public sealed record HandOff(string WorkerId, int Max, TimeSpan Lease);

    /// <summary>
    /// Records attempts' outcomes and everything that follows in ONE transaction: the retry
    /// policy or the final state, dead letters when retries are used up, downstream trigger
    /// rules, the runs' ends, the next waiting runs. Batching matters: a claim hands a worker
    /// neighbouring tasks of the same run, whose completions would otherwise queue one by one
    /// on the run's row lock. A report for an attempt that is no longer this worker's (its
    /// lease expired and it went to another worker, or the run was cancelled) changes nothing
    /// but keeps its log. Returns how many reports counted. With a <paramref name="handOff"/>,
    /// the same transaction also claims up to its Max queued tasks for the reporting worker,
    /// when it queued any (see <see cref="TaskClaims.HandOffAsync"/>).
    /// </summary>
    public Task<CompletedTasks> CompleteAsync(IReadOnlyList<CompleteTask> completions, HandOff? handOff, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return RecordAsync(completions, (c, row, runs) => OutcomePolicy.Decide(c.Outcome, c.Attempt, row.MaxAttempts,
            runs[c.RunId].Graph.Tasks.GetValueOrDefault(c.TaskId), now, Random.Shared.NextDouble(), c.WakeAt), handOff, ct, TaskStates.Running);
    }

    /// <summary>
    /// Ends parked waits (the scheduler loop's wake-ups: a wait that is over, or timed out) as
    /// any attempt's end is recorded: the retry policy, trigger rules, the run's end. A report
    /// whose task is no longer waiting on that attempt (signalled, cancelled, cleared meanwhile)
    /// changes nothing, so two replicas waking the same task for a moment double nothing.
    /// </summary>
    public Task<CompletedTasks> WakeAsync(IReadOnlyList<CompleteTask> wakeUps, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return RecordAsync(wakeUps, (c, row, runs) => OutcomePolicy.Decide(c.Outcome, c.Attempt, row.MaxAttempts,
            runs[c.RunId].Graph.Tasks.GetValueOrDefault(c.TaskId), now, Random.Shared.NextDouble()), null, ct, TaskStates.Waiting);
    }

    /// <summary>
    /// Fails attempts whose last allowed delivery lost its worker, as any failure is recorded
    /// (dead letter, trigger rules, the run's end), with the attempt 'lost'. An attempt whose
    /// lease was renewed meanwhile (its worker came back) is left alone.
    /// </summary>
    public async Task<int> FailLostAsync(IReadOnlyList<CompleteTask> lost, CancellationToken ct) =>
        (await RecordAsync(lost, (_, row, _) => row.LeaseExpired ? OutcomePolicy.Lost : null, null, ct, TaskStates.Running)).Counted;

    /// <summary>A null decision makes the report stale: only its log is kept.</summary>
    private async Task<CompletedTasks> RecordAsync(IReadOnlyList<CompleteTask> reports, Func<CompleteTask, Current, IReadOnlyDictionary<long, RunTransaction>, TaskDecision?> decide, HandOff? handOff, CancellationToken ct, string from)
    {
        if (reports.Count == 0)
            return new CompletedTasks(0, []);
        reports = reports.Select(c => c with { Error = PostgresText.CleanOrNull(c.Error), LogTail = PostgresText.CleanOrNull(c.LogTail) }).ToList();
        await using var connection = await unit.DataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var runs = await unit.BeginManyAsync(connection, tx, reports.Select(c => c.RunId).ToList(), ct);
        // A run deleted meanwhile takes its reports with it.
        reports = reports.Where(c => runs.ContainsKey(c.RunId)).ToList();
        var current = new Dictionary<long, Current>();
        await using (var cmd = new NpgsqlCommand("select id, attempt, worker_id, max_attempts, lease_expires_at < now(), map_index from runs.task_instances where id = any(@ids) and state = @from order by id for update", connection, tx))
        {
            cmd.Parameters.AddWithValue("from", from);
            cmd.Parameters.AddWithValue("ids", reports.Select(c => c.TaskInstanceId).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                current[reader.GetInt64(0)] = new(reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt32(3), !reader.IsDBNull(4) && reader.GetBoolean(4), reader.GetInt32(5));
        }
        var valid = new List<Decided>();
        var stale = new List<CompleteTask>();
        foreach (var c in reports)
        {
            if (current.TryGetValue(c.TaskInstanceId, out var row) && row.Attempt == c.Attempt && (from == TaskStates.Waiting || row.Worker == c.WorkerId) && decide(c, row, runs) is { } decision)
                valid.Add(Expansion(new(c, decision, row.MapIndex), runs[c.RunId]));
            else
                stale.Add(c);
        }
        if (valid.Count > 0)
            await ApplyAsync(connection, tx, runs, valid, from, ct);
        if (stale.Count > 0)
        {
            await using var batch = new NpgsqlBatch(connection, tx) { BatchCommands = { AttemptsCommand(stale.Select(c => (c, (string?)null)).ToList()) } };
            await batch.ExecuteNonQueryAsync(ct);
        }
        // Only a completion that queued something pays for the hand-off's statement. The NOTIFY
        // still goes out at commit for whatever it queued and did not hand off; a run whose
        // queued tasks were all handed off wakes nobody (its tasks are running, leased, so
        // the lease reaper is active meanwhile as for any claimed task).
        var handedOff = handOff is { Max: > 0 } h && runs.Values.Any(r => r.QueuedAny)
            ? await TaskClaims.HandOffAsync(connection, tx, h.WorkerId, h.Max, h.Lease, ct)
            : [];
        foreach (var run in handedOff.GroupBy(t => t.RunId))
            if (runs.TryGetValue(run.Key, out var handedRun))
                handedRun.HandedOff(run.Select(t => t.TaskId).ToHashSet(StringComparer.Ordinal));
        await unit.CommitRunsAsync(connection, tx, runs.Values.ToList(), ct,
            handedOff.Select(t => new Events.RunEvents.Row(t.DagName, t.RunId, t.TaskId, TaskStates.Running, t.MapIndex >= 0 ? t.MapIndex : null)).ToList());
        // A wait that parks (or pokes again) has not ended its attempt: not counted as finished.
        figures.Finished(valid.Count(v => v.Decision.State != TaskStates.Waiting));
        return new CompletedTasks(valid.Count, handedOff);
    }

    /// <summary>
    /// A mapped task's own attempt that succeeded rendered its items (the worker checked them:
    /// an array, not empty, within max_map_length): the row stays running, without a worker,
    /// and the items become its instances. Its attempt row records the success and the items.
    /// </summary>
    private static Decided Expansion(Decided decided, RunTransaction run)
    {
        if (decided.MapIndex >= 0 || decided.Decision.State != TaskStates.Success
            || run.Graph.Tasks.GetValueOrDefault(decided.Report.TaskId) is not { MapOver: not null }
            || decided.Report.Output is not { } output || JsonNode.Parse(output) is not JsonArray { Count: > 0 } items)
            return decided;
        return decided with { Decision = decided.Decision with { State = TaskStates.Running }, Expand = items };
    }

    /// <summary>
    /// The tasks' and attempts' rows (and dead letters) in ONE round trip, then the trigger
    /// rules: every statement sent is a wait for the database on the way to the next task.
    /// </summary>
    private static async Task ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyDictionary<long, RunTransaction> runs, List<Decided> valid, string from, CancellationToken ct)
    {
        await using (var batch = new NpgsqlBatch(connection, tx))
        {
            // A wait that parks keeps the deadline its attempt first parked with (a poke's
            // re-claim must not extend it) and wakes at its wake-up or its deadline, whichever
            // comes first (least() ignores nulls); any other end drops the deadline.
            var finish = new NpgsqlBatchCommand("""
                update runs.task_instances ti
                set state = v.s, finished_at = case when v.s in ('up_for_retry', 'waiting', 'running') then null else now() end,
                    wait_deadline = case when v.s = 'waiting' then coalesce(ti.wait_deadline, ti.started_at + v.timeout) end,
                    not_before = case when v.s = 'waiting' then least(v.nb, coalesce(ti.wait_deadline, ti.started_at + v.timeout)) else v.nb end,
                    wait_poke = v.s = 'waiting' and v.poke, worker_id = null, lease_expires_at = null
                from unnest(@ids, @states, @nb, @timeouts, @pokes) as v(id, s, nb, timeout, poke) where ti.id = v.id
                """);
            finish.Parameters.AddWithValue("ids", valid.Select(v => v.Report.TaskInstanceId).ToArray());
            finish.Parameters.AddWithValue("states", valid.Select(v => v.Decision.State).ToArray());
            finish.Parameters.Add(new NpgsqlParameter("nb", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = valid.Select(v => (object?)v.Decision.NotBefore ?? DBNull.Value).ToArray() });
            finish.Parameters.Add(new NpgsqlParameter("timeouts", NpgsqlDbType.Array | NpgsqlDbType.Interval)
            {
                Value = valid.Select(v => (object?)runs[v.Report.RunId].Graph.Tasks.GetValueOrDefault(v.Report.TaskId)?.Timeout ?? DBNull.Value).ToArray(),
            });
            finish.Parameters.AddWithValue("pokes", valid.Select(v => v.Report.Poke).ToArray());
            batch.BatchCommands.Add(finish);
            batch.BatchCommands.Add(AttemptsCommand(valid.Select(v => (v.Report, (string?)v.Decision.AttemptState)).ToList()));
            var dead = valid.Where(v => v.Decision.State == TaskStates.Failed).Select(v => v.Report).ToList();
            if (dead.Count > 0)
                batch.BatchCommands.Add(DeadLettersCommand(runs, dead));
            await batch.ExecuteNonQueryAsync(ct);
        }
        // A success's asset events commit with it: an outlet is updated exactly when the task is recorded done.
        var outletEvents = valid.Where(v => v.Decision.State == TaskStates.Success)
            .SelectMany(v => Assets.AssetEventLog.OutletsOf(runs[v.Report.RunId].Graph.Tasks.GetValueOrDefault(v.Report.TaskId))
                .Select(uri => new Assets.NewAssetEvent(uri, [], runs[v.Report.RunId].DagName, v.Report.RunId, v.Report.TaskId)))
            .ToList();
        await Assets.AssetEventLog.RecordAsync(connection, tx, outletEvents, ct);
        foreach (var (c, decision, mapIndex, expand) in valid)
        {
            var run = runs[c.RunId];
            if (expand is not null)
                await run.ExpandAsync(c.TaskId, expand, ct);
            else if (mapIndex >= 0)
                run.TrackInstance(c.TaskId, mapIndex, from, decision.State);
            else
                run.Track(c.TaskId, from, decision.State);
            if (decision.State == TaskStates.UpForRetry)
                run.AddEvent(NotificationEvents.TaskRetry, $"retry:{c.TaskInstanceId}:{c.Attempt}", c.TaskId, c.Attempt, c.Error);
            else if (decision.State == TaskStates.Failed)
            {
                run.AddEvent(NotificationEvents.TaskFailure, $"task_failure:{c.TaskInstanceId}:{c.Attempt}", c.TaskId, c.Attempt, c.Error);
                run.AddEvent(NotificationEvents.DeadLetter, $"dead_letter:{c.TaskInstanceId}:{c.Attempt}", c.TaskId, c.Attempt, c.Error);
            }
        }
        // Trigger rules per run, and only where a finished task has something downstream.
        foreach (var group in valid.Where(v => TaskStates.IsFinal(v.Decision.State)).GroupBy(v => v.Report.RunId))
        {
            var run = runs[group.Key];
            // An instance that finished may finish its mapped task, and may decide a downstream
            // rule at once (one_failed), so its task's downstream is looked at too.
            await run.SettleMappedAsync(group.Where(v => v.MapIndex >= 0).Select(v => v.Report.TaskId), ct);
            var final = group.Select(v => v.Report.TaskId).Distinct().Where(t => run.Graph.Downstream.TryGetValue(t, out var next) && next.Length > 0).ToList();
            // A branch that succeeded skips the direct downstream tasks it does not follow (the
            // worker checked the list); trigger rules then carry the skips on, as in Airflow.
            foreach (var (branch, _, _, _) in group.Where(v => v.Report.Follow is not null && v.Decision.State == TaskStates.Success))
                final.AddRange(await run.SetAsync(run.Graph.Downstream[branch.TaskId].Except(branch.Follow!, StringComparer.Ordinal).ToList(), TaskStates.Skipped, [TaskStates.Pending], ct));
            if (final.Count > 0)
                await run.ResolveDownstreamAsync(final, ct);
        }
    }

    private static NpgsqlBatchCommand DeadLettersCommand(IReadOnlyDictionary<long, RunTransaction> runs, List<CompleteTask> dead)
    {
        var cmd = new NpgsqlBatchCommand("""
            insert into runs.dead_letters (task_instance_id, run_id, dag_name, task_id, attempts, error, created_at)
            select id, run, dag, task, attempts, error, now() from unnest(@ids, @runs, @dags, @tasks, @attempts, @errors) as v(id, run, dag, task, attempts, error)
            """);
        cmd.Parameters.AddWithValue("ids", dead.Select(c => c.TaskInstanceId).ToArray());
        cmd.Parameters.AddWithValue("runs", dead.Select(c => c.RunId).ToArray());
        cmd.Parameters.AddWithValue("dags", dead.Select(c => runs[c.RunId].DagName).ToArray());
        cmd.Parameters.AddWithValue("tasks", dead.Select(c => c.TaskId).ToArray());
        cmd.Parameters.AddWithValue("attempts", dead.Select(c => c.Attempt).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = dead.Select(c => (object?)c.Error ?? DBNull.Value).ToArray() });
        return cmd;
    }

    /// <summary>Finishes attempt rows; a null state only appends the log (a stale report keeps its evidence).</summary>
    private static NpgsqlBatchCommand AttemptsCommand(List<(CompleteTask C, string? State)> attempts)
    {
        var cmd = new NpgsqlBatchCommand("""
            update runs.task_attempts a
            set state = coalesce(v.s, a.state),
                finished_at = case when v.s is null or v.s = 'waiting' then a.finished_at else now() end,
                code = case when v.s is null then a.code else v.code end,
                error = case when v.s is null then a.error else v.e end,
                log = left(a.log || v.log, @cap),
                output = case when v.s is null then a.output else v.o::jsonb end
            from unnest(@ids, @attempts, @states, @codes, @errors, @logs, @outputs) as v(id, attempt, s, code, e, log, o)
            where a.task_instance_id = v.id and a.attempt = v.attempt
            """);
        cmd.Parameters.AddWithValue("ids", attempts.Select(a => a.C.TaskInstanceId).ToArray());
        cmd.Parameters.AddWithValue("attempts", attempts.Select(a => a.C.Attempt).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("states", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attempts.Select(a => (object?)a.State ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("codes", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = attempts.Select(a => (object?)a.C.Code ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("errors", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attempts.Select(a => (object?)a.C.Error ?? DBNull.Value).ToArray() });
        cmd.Parameters.AddWithValue("logs", attempts.Select(a => a.C.LogTail ?? "").ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("outputs", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attempts.Select(a => (object?)a.C.Output ?? DBNull.Value).ToArray() });
        cmd.Parameters.AddWithValue("cap", LogCap);
        return cmd;
    }

    /// <summary>Appends to a running attempt's log; output of an attempt that ended meanwhile is dropped.</summary>
    public async Task AppendLogAsync(long taskInstanceId, int attempt, string text, CancellationToken ct)
    {
        await using var cmd = unit.DataSource.CreateCommand("update runs.task_attempts set log = left(log || @log, @cap) where task_instance_id = @id and attempt = @a and state = 'running'");
        cmd.Parameters.AddWithValue("log", PostgresText.Clean(text));
        cmd.Parameters.AddWithValue("cap", LogCap);
        cmd.Parameters.AddWithValue("id", taskInstanceId);
        cmd.Parameters.AddWithValue("a", attempt);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
