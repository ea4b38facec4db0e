using System.Text.Json.Nodes;
using NpgsqlTypes;
using Npgsql;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// A run transaction's side of dynamic task mapping: a mapped task's instances are rows of
/// their own (map_index 0..n-1) beside its own row (-1), inserted in ONE statement, counted
/// in the run's counters like any task, tracked by (task, index) here, and summed up into the
/// own row's state once all have finished (<see cref="MappedStates.Summary"/>).
/// </summary>
internal sealed partial class RunTransaction
{
    // Instance states by mapped task and index, read once per transaction and then tracked.
    private readonly Dictionary<string, Dictionary<int, string>> _instances = new(StringComparer.Ordinal);
    private bool _queuedInstances;

    private bool IsMapped(string taskId) => Graph.Tasks.TryGetValue(taskId, out var plan) && plan.MapOver is not null;

    /// <summary>Loads the instances of the mapped tasks among <paramref name="taskIds"/> not read yet in this transaction.</summary>
    private async Task InstancesAsync(IEnumerable<string> taskIds, CancellationToken ct)
    {
        var missing = taskIds.Where(t => IsMapped(t) && !_instances.ContainsKey(t)).Distinct().ToArray();
        if (missing.Length == 0)
            return;
        foreach (var id in missing)
            _instances[id] = [];
        await using var cmd = Command("select task_id, map_index, state from runs.task_instances where run_id = @run and task_id = any(@ids) and map_index >= 0");
        cmd.Parameters.AddWithValue("run", RunId);
        cmd.Parameters.AddWithValue("ids", missing);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            _instances[reader.GetString(0)][reader.GetInt32(1)] = reader.GetString(2);
    }

    private List<string> UpstreamStates(Dags.Contracts.TaskPlan task, IReadOnlyDictionary<string, string> states) =>
        MappedStates.Upstream(task.DependsOn, states, _instances);

    /// <summary>Records an instance's move already written to the table (null old state: just inserted).</summary>
    public void TrackInstance(string taskId, int mapIndex, string? oldState, string newState)
    {
        if (_instances.TryGetValue(taskId, out var known))
            known[mapIndex] = newState;
        Counted(taskId, mapIndex, oldState, newState);
        if (newState == TaskStates.Queued)
            _queuedInstances = true;
    }

    /// <summary>
    /// Expands a mapped task whose own attempt rendered <paramref name="items"/> (not empty):
    /// one queued instance per element, in ONE statement, each with the task's pool, priority
    /// and retries. The own row stays 'running' (without a worker) until they have all finished.
    /// </summary>
    public async Task ExpandAsync(string taskId, JsonArray items, CancellationToken ct)
    {
        await using var cmd = Command("""
            insert into runs.task_instances (run_id, task_id, state, attempt, max_attempts, priority, pool, constrained, queued_at, map_index, map_item)
            select p.run_id, p.task_id, 'queued', 0, @max, p.priority, p.pool, p.constrained, now(), v.i, v.item::jsonb
            from runs.task_instances p cross join unnest(@indexes, @items) as v(i, item)
            where p.run_id = @run and p.task_id = @task and p.map_index = -1
            """);
        cmd.Parameters.AddWithValue("run", RunId);
        cmd.Parameters.AddWithValue("task", taskId);
        cmd.Parameters.AddWithValue("max", Graph.Tasks[taskId].MaxAttempts);
        cmd.Parameters.AddWithValue("indexes", Enumerable.Range(0, items.Count).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("items", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = items.Select(i => i?.ToJsonString() ?? "null").ToArray() });
        var inserted = await cmd.ExecuteNonQueryAsync(ct);
        var known = _instances[taskId] = [];
        for (var i = 0; i < inserted; i++)
        {
            known[i] = TaskStates.Queued;
            Counted(taskId, i, null, TaskStates.Queued);
        }
        _queuedInstances |= inserted > 0;
    }

    /// <summary>
    /// Moves instances of these mapped tasks (the ones at <paramref name="mapIndexes"/>, or all
    /// with null) from one of <paramref name="fromStates"/> to <paramref name="newState"/>;
    /// returns the ones that moved.
    /// </summary>
    public async Task<IReadOnlyList<(string TaskId, int MapIndex)>> SetInstancesAsync(IReadOnlyCollection<string> taskIds, IReadOnlyCollection<int>? mapIndexes, string newState, string[] fromStates, CancellationToken ct)
    {
        var mapped = taskIds.Where(IsMapped).Distinct().ToArray();
        if (mapped.Length == 0)
            return [];
        await InstancesAsync(mapped, ct);
        await using var cmd = Command($"""
            with old as (
                select id, state from runs.task_instances
                where run_id = @run and task_id = any(@ids) and state = any(@from) and map_index >= 0 and (@all or map_index = any(@indexes))
                order by id
                for update)
            update runs.task_instances ti set {Timestamps(newState)} state = @state, worker_id = null, lease_expires_at = null, wait_deadline = null, wait_poke = false
            from old where ti.id = old.id
            returning ti.task_id, ti.map_index, old.state
            """);
        cmd.Parameters.AddWithValue("run", RunId);
        cmd.Parameters.AddWithValue("ids", mapped);
        cmd.Parameters.AddWithValue("from", fromStates);
        cmd.Parameters.AddWithValue("state", newState);
        cmd.Parameters.AddWithValue("all", mapIndexes is null);
        cmd.Parameters.AddWithValue("indexes", (mapIndexes ?? []).ToArray());
        var moved = new List<(string, int)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                moved.Add((reader.GetString(0), reader.GetInt32(1)));
                TrackInstance(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), newState);
            }
        return moved;
    }

    /// <summary>The state of one instance, or null when the task has no instance at that index.</summary>
    public async Task<string?> InstanceStateAsync(string taskId, int mapIndex, CancellationToken ct)
    {
        await InstancesAsync([taskId], ct);
        return _instances.TryGetValue(taskId, out var known) && known.TryGetValue(mapIndex, out var state) ? state : null;
    }

    /// <summary>
    /// Brings the own rows of these mapped tasks in line with their instances: the summary
    /// state once every instance has finished, 'running' again when one was cleared. Tasks
    /// without instances (not expanded) are left alone. Cost: while an instance is unfinished
    /// one probe per task (instances finish roughly in map_index order, so a backward scan
    /// meets an unfinished one first); the instances are read only once they have all finished,
    /// so a 1,024-way map does not read 1,024 rows per completion.
    /// </summary>
    public async Task SettleMappedAsync(IEnumerable<string> taskIds, CancellationToken ct)
    {
        var mapped = taskIds.Where(IsMapped).Distinct().ToList();
        if (mapped.Count == 0)
            return;
        var states = await StatesAsync(mapped, ct);
        foreach (var taskId in mapped)
        {
            if (!states.TryGetValue(taskId, out var current))
                continue;
            string? target;
            if (!_instances.ContainsKey(taskId) && await AnyUnfinishedInstanceAsync(taskId, ct) is { } probed)
                target = probed ? TaskStates.Running : null;
            else
                target = null;
            if (target is null)
            {
                await InstancesAsync([taskId], ct);
                if (_instances[taskId].Count == 0)
                    continue;
                target = MappedStates.Summary(_instances[taskId].Values) ?? TaskStates.Running;
            }
            if (target != current)
                await SetAsync([taskId], target, [current], ct);
        }
    }

    /// <summary>Whether an instance of the task is unfinished; null when it has no instances.</summary>
    private async Task<bool?> AnyUnfinishedInstanceAsync(string taskId, CancellationToken ct)
    {
        await using var cmd = Command("""
            select state from runs.task_instances
            where run_id = @run and task_id = @task and map_index >= 0
            order by map_index desc limit 1
            """);
        cmd.Parameters.AddWithValue("run", RunId);
        cmd.Parameters.AddWithValue("task", taskId);
        if (await cmd.ExecuteScalarAsync(ct) is not string last)
            return null;
        if (!TaskStates.IsFinal(last))
            return true;
        await using var probe = Command("""
            select exists (select 1 from runs.task_instances
                where run_id = @run and task_id = @task and map_index >= 0 and state in ('pending', 'queued', 'running', 'up_for_retry'))
            """);
        probe.Parameters.AddWithValue("run", RunId);
        probe.Parameters.AddWithValue("task", taskId);
        return (bool)(await probe.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Deletes the instances of these mapped tasks (a clear of the whole task: it renders
    /// map_over and expands again), taking them out of the run's counters.
    /// </summary>
    public async Task DropInstancesAsync(IReadOnlyCollection<string> taskIds, CancellationToken ct)
    {
        var mapped = taskIds.Where(IsMapped).Distinct().ToArray();
        if (mapped.Length == 0)
            return;
        await using var cmd = Command("delete from runs.task_instances where run_id = @run and task_id = any(@ids) and map_index >= 0 returning state");
        cmd.Parameters.AddWithValue("run", RunId);
        cmd.Parameters.AddWithValue("ids", mapped);
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                var state = reader.GetString(0);
                if (!TaskStates.IsFinal(state))
                    _unfinished--;
                if (TaskStates.IsUnsuccessful(state))
                    _failed--;
            }
        foreach (var id in mapped)
            _instances[id] = [];
    }
}
