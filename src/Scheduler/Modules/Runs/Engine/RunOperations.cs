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
        await run.SetAsync(open, TaskStates.Cancelled, [TaskStates.Pending, TaskStates.Queued, TaskStates.Running, TaskStates.Waiting, TaskStates.UpForRetry], ct);
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
        await using var cmd = run.Command("select task_id from runs.task_instances where run_id = @r and state in ('pending', 'queued', 'running', 'waiting', 'up_for_retry')");
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
    public Task<ClearResult?> ClearAsync(long runId, string taskId, bool downstream, AuditEntry? audit, CancellationToken ct) => unit.InRunAsync(runId, async run =>
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
        if (audit is not null)
            audit.Details["cleared"] = new System.Text.Json.Nodes.JsonArray(targets.Select(t => (System.Text.Json.Nodes.JsonNode)t).ToArray());
        await WriteAsync(run, audit, ct);
        return new ClearResult(true, targets);
    }, ct);

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
            where ti.run_id = @r and ti.task_id = @t and a.task_instance_id = ti.id and a.attempt = ti.attempt
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

    /// <summary>Marks a task success or failed by hand; downstream follows as if it had run.</summary>
    public Task<MarkResult?> MarkAsync(long runId, string taskId, string state, AuditEntry? audit, CancellationToken ct) => unit.InRunAsync(runId, async run =>
    {
        if (!run.Graph.Tasks.ContainsKey(taskId))
            return new MarkResult(false, false);
        var moved = await run.SetAsync([taskId], state, TaskStates.All.Where(s => s != state).ToArray(), ct);
        if (moved.Count > 0)
        {
            await using (var cmd = run.Command("update runs.task_attempts a set state = 'cancelled', finished_at = now() from runs.task_instances ti where ti.run_id = @r and ti.task_id = @t and a.task_instance_id = ti.id and a.state in ('running', 'waiting')"))
            {
                cmd.Parameters.AddWithValue("r", runId);
                cmd.Parameters.AddWithValue("t", taskId);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await run.ResolveDownstreamAsync([taskId], ct);
            await WriteAsync(run, audit, ct);
        }
        return new MarkResult(true, moved.Count > 0);
    }, ct);
}

internal sealed record CancelResult(bool Cancelled, string State);

/// <summary><paramref name="State"/>: the task's state when it was not waiting (nothing changed).</summary>
internal sealed record SignalResult(bool Found, bool Signalled, string? State);

internal sealed record ClearResult(bool Found, IReadOnlyList<string>? Cleared);

internal sealed record MarkResult(bool Found, bool Changed);
