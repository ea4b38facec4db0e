using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// Operator actions on a run (cancel, clear, mark), each one run transaction through the
/// unit of work, so downstream resolution and the run's end follow exactly as after a task ran.
/// Each writes its audit entry, when given and when the action changed something, in that transaction.
/// </summary>
internal sealed class RunOperations(RunUnitOfWork unit)
{
    /// <summary>Cancels every task that has not finished; running ones are told to stop.</summary>
    public Task<CancelResult?> CancelRunAsync(long runId, AuditEntry? audit, CancellationToken ct) =>
        unit.InRunAsync(runId, run => StopAsync(run, RunStates.Cancelled, null, audit, ct), ct);

    /// <summary>
    /// Fails a run that outlived its DAG's timeout: its unfinished tasks are cancelled (running
    /// ones told to stop, through the workers' cancellation path) and the run says why. A run
    /// that ended meanwhile, or was restarted later than the caller saw, is left alone.
    /// </summary>
    public Task<CancelResult?> TimeOutRunAsync(long runId, string reason, CancellationToken ct) => unit.InRunAsync(runId, async run =>
    {
        await using (var cmd = run.Command("select started_at + run_timeout <= now() from runs.dag_runs where id = @r"))
        {
            cmd.Parameters.AddWithValue("r", runId);
            if (await cmd.ExecuteScalarAsync(ct) is not true)
                return new CancelResult(false, run.State);
        }
        return await StopAsync(run, RunStates.Failed, reason, null, ct);
    }, ct);

    private async Task<CancelResult?> StopAsync(RunTransaction run, string finalState, string? reason, AuditEntry? audit, CancellationToken ct)
    {
        var runId = run.RunId;
        if (RunStates.IsFinal(run.State))
            return new CancelResult(false, run.State);
        var open = await OpenTasksAsync(run, ct);
        string[] unfinished = [TaskStates.Pending, TaskStates.Queued, TaskStates.Running, TaskStates.Waiting, TaskStates.UpForRetry];
        await run.SetAsync(open, TaskStates.Cancelled, unfinished, ct);
        await run.SetInstancesAsync(open, null, TaskStates.Cancelled, unfinished, ct);
        await using (var cmd = run.Command("update runs.task_attempts set state = 'cancelled', finished_at = now() where task_instance_id in (select id from runs.task_instances where run_id = @r) and state in ('running', 'waiting')"))
        {
            cmd.Parameters.AddWithValue("r", runId);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        run.ForceState(finalState);
        if (reason is not null)
        {
            await using var cmd = run.Command("update runs.dag_runs set reason = @reason where id = @r");
            cmd.Parameters.AddWithValue("r", runId);
            cmd.Parameters.AddWithValue("reason", reason);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await WriteAsync(run, audit, ct);
        await using (var cmd = run.Command($"select pg_notify('{Channels.Cancel}', @p)"))
        {
            cmd.Parameters.AddWithValue("p", runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return new CancelResult(true, finalState);
    }

    private static Task WriteAsync(RunTransaction run, AuditEntry? audit, CancellationToken ct) =>
        audit is null ? Task.CompletedTask : AuditLog.WriteAsync(run.Connection, run.Transaction, [audit], ct);

    private static async Task<List<string>> OpenTasksAsync(RunTransaction run, CancellationToken ct)
    {
        var open = new List<string>();
        await using var cmd = run.Command("select task_id from runs.task_instances where run_id = @r and map_index = -1 and state in ('pending', 'queued', 'running', 'waiting', 'up_for_retry')");
        cmd.Parameters.AddWithValue("r", run.RunId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            open.Add(reader.GetString(0));
        return open;
    }

    /// <summary>
    /// Reruns a task inside its run (and with <paramref name="downstream"/> everything that
    /// depends on it, transitively). Cleared tasks get fresh attempts: the attempt counter
    /// continues and the task's retries apply again. A finished run re-opens. With
    /// <paramref name="mapIndex"/>, only that instance of a mapped task reruns (and its
    /// downstream tasks with <paramref name="downstream"/>); a mapped task cleared whole drops
    /// its instances and renders map_over again.
    /// </summary>
    public Task<ClearResult?> ClearAsync(long runId, string taskId, bool downstream, int? mapIndex, AuditEntry? audit, CancellationToken ct) => unit.InRunAsync(runId, async run =>
    {
        if (!run.Graph.Tasks.ContainsKey(taskId))
            return new ClearResult(false, []);
        if (mapIndex is { } index)
            return await ClearInstanceAsync(run, taskId, index, downstream, audit, ct);
        List<string> targets = [taskId, .. downstream ? DownstreamOf(run, taskId) : []];
        var states = await run.StatesAsync(targets, ct);
        if (targets.Any(t => states[t] == TaskStates.Running))
            return new ClearResult(true, null);
        await run.DropInstancesAsync(targets, ct);
        await ClearTasksAsync(run, taskId, targets, ct);
        if (audit is not null)
            audit.Details["cleared"] = new System.Text.Json.Nodes.JsonArray(targets.Select(t => (System.Text.Json.Nodes.JsonNode)t).ToArray());
        await WriteAsync(run, audit, ct);
        return new ClearResult(true, targets);
    }, ct);

    /// <summary>The tasks downstream of <paramref name="taskId"/>, transitively, in breadth-first order.</summary>
    private static List<string> DownstreamOf(RunTransaction run, string taskId)
    {
        var found = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { taskId };
        var frontier = new List<string> { taskId };
        for (var i = 0; i < frontier.Count; i++)
            foreach (var next in run.Graph.Downstream[frontier[i]])
                if (seen.Add(next))
                {
                    frontier.Add(next);
                    found.Add(next);
                }
        return found;
    }

    /// <summary>
    /// Reruns one instance of a mapped task: fresh attempts, the task's own row running again
    /// until it has finished; with <paramref name="downstream"/> the tasks after it are cleared
    /// too and wait for it. A 404 (not found) for an index the task never had.
    /// </summary>
    private static async Task<ClearResult> ClearInstanceAsync(RunTransaction run, string taskId, int mapIndex, bool downstream, AuditEntry? audit, CancellationToken ct)
    {
        var state = await run.InstanceStateAsync(taskId, mapIndex, ct);
        if (state is null)
            return new ClearResult(false, []);
        var after = downstream ? DownstreamOf(run, taskId) : [];
        var states = await run.StatesAsync(after, ct);
        if (state == TaskStates.Running || after.Any(t => states[t] == TaskStates.Running))
            return new ClearResult(true, null);
        await using (var cmd = run.Command("update runs.task_instances set max_attempts = attempt + @extra where run_id = @r and task_id = @t and map_index = @i"))
        {
            cmd.Parameters.AddWithValue("r", run.RunId);
            cmd.Parameters.AddWithValue("t", taskId);
            cmd.Parameters.AddWithValue("i", mapIndex);
            cmd.Parameters.AddWithValue("extra", run.Graph.Tasks[taskId].MaxAttempts);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await run.SetInstancesAsync([taskId], [mapIndex], TaskStates.Queued, TaskStates.All.Where(s => s != TaskStates.Running).ToArray(), ct);
        await run.SettleMappedAsync([taskId], ct);
        if (after.Count > 0)
        {
            await run.DropInstancesAsync(after, ct);
            await ClearTasksAsync(run, taskId, after, ct);
        }
        var cleared = after.Prepend($"{taskId}[{mapIndex}]").ToList();
        if (audit is not null)
        {
            audit.Details["map_index"] = mapIndex;
            audit.Details["cleared"] = new System.Text.Json.Nodes.JsonArray(cleared.Select(t => (System.Text.Json.Nodes.JsonNode)t).ToArray());
        }
        await WriteAsync(run, audit, ct);
        return new ClearResult(true, cleared);
    }

    /// <summary>Fresh attempts for <paramref name="targets"/>, back to pending, then each re-decided from its upstream states.</summary>
    private static async Task ClearTasksAsync(RunTransaction run, string taskId, List<string> targets, CancellationToken ct)
    {
        await using (var cmd = run.Command("update runs.task_instances set max_attempts = attempt + @extra where run_id = @r and task_id = any(@ids) and map_index = -1"))
        {
            cmd.Parameters.AddWithValue("r", run.RunId);
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
    }

    /// <summary>
    /// Ends a waiting task with success, its output <paramref name="outputJson"/> (JSON text or
    /// null), and resolves downstream as if it had run. Only a task parked in 'waiting' is
    /// signalled: the row lock and the state check make a second signal (or one racing its
    /// timeout) change nothing.
    /// </summary>
    public Task<SignalResult?> SignalAsync(long runId, string taskId, string? outputJson, AuditEntry? audit, CancellationToken ct) => unit.InRunAsync(runId, async run =>
    {
        if (!run.Graph.Tasks.ContainsKey(taskId))
            return new SignalResult(false, false, null);
        if ((await run.SetAsync([taskId], TaskStates.Success, [TaskStates.Waiting], ct)).Count == 0)
            return new SignalResult(true, false, (await run.StatesAsync([taskId], ct)).GetValueOrDefault(taskId));
        await using (var cmd = run.Command("""
            update runs.task_attempts a set state = 'success', finished_at = now(), output = @o::jsonb,
                log = left(a.log || E'--- signalled ---\n', @cap)
            from runs.task_instances ti
            where ti.run_id = @r and ti.task_id = @t and ti.map_index = -1 and a.task_instance_id = ti.id and a.attempt = ti.attempt
            """))
        {
            cmd.Parameters.AddWithValue("r", runId);
            cmd.Parameters.AddWithValue("t", taskId);
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter("o", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)outputJson ?? DBNull.Value });
            cmd.Parameters.AddWithValue("cap", TaskCompletion.LogCap);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await run.ResolveDownstreamAsync([taskId], ct);
        await WriteAsync(run, audit, ct);
        return new SignalResult(true, true, TaskStates.Success);
    }, ct);

    /// <summary>
    /// Marks a task success or failed by hand; downstream follows as if it had run. With
    /// <paramref name="mapIndex"/>, one instance of a mapped task (its task's own row follows
    /// its instances); a mapped task marked whole has every instance marked too.
    /// </summary>
    public Task<MarkResult?> MarkAsync(long runId, string taskId, string state, int? mapIndex, AuditEntry? audit, CancellationToken ct) => unit.InRunAsync(runId, async run =>
    {
        if (!run.Graph.Tasks.ContainsKey(taskId) || (mapIndex is { } index && await run.InstanceStateAsync(taskId, index, ct) is null))
            return new MarkResult(false, false);
        var others = TaskStates.All.Where(s => s != state).ToArray();
        var moved = mapIndex is null ? (await run.SetAsync([taskId], state, others, ct)).Count : 0;
        moved += (await run.SetInstancesAsync([taskId], mapIndex is { } i ? [i] : null, state, others, ct)).Count;
        if (moved > 0)
        {
            await using (var cmd = run.Command("update runs.task_attempts a set state = 'cancelled', finished_at = now() from runs.task_instances ti where ti.run_id = @r and ti.task_id = @t and (@all or ti.map_index = @i) and a.task_instance_id = ti.id and a.state in ('running', 'waiting')"))
            {
                cmd.Parameters.AddWithValue("r", runId);
                cmd.Parameters.AddWithValue("t", taskId);
                cmd.Parameters.AddWithValue("all", mapIndex is null);
                cmd.Parameters.AddWithValue("i", mapIndex ?? -1);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            if (mapIndex is not null)
                await run.SettleMappedAsync([taskId], ct);
            await run.ResolveDownstreamAsync([taskId], ct);
            if (audit is not null && mapIndex is not null)
                audit.Details["map_index"] = mapIndex;
            await WriteAsync(run, audit, ct);
        }
        return new MarkResult(true, moved > 0);
    }, ct);
}

internal sealed record CancelResult(bool Cancelled, string State);

/// <summary><paramref name="State"/>: the task's state when it was not waiting (nothing changed).</summary>
internal sealed record SignalResult(bool Found, bool Signalled, string? State);

internal sealed record ClearResult(bool Found, IReadOnlyList<string>? Cleared);

internal sealed record MarkResult(bool Found, bool Changed);
