using Npgsql;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>Hands queued tasks to workers: the one-statement path and the slot-counting path.</summary>
internal sealed class TaskClaims(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Claims up to <paramref name="max"/> queued tasks for a worker in ONE statement:
    /// SKIP LOCKED lets replicas claim side by side without waiting on each other, the
    /// partial queue index keeps it an index scan, and the attempt row and the tasks'
    /// <c>running</c> events are written in the same statement (a wait's poke goes on the
    /// attempt it parked: same number, same row, no extra delivery counted). Constrained tasks (limited pools, max_active_tasks) are left to
    /// <see cref="ClaimConstrainedAsync"/>.
    /// </summary>
    public async Task<List<ClaimedTask>> ClaimAsync(string workerId, int max, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(ClaimSql(PickUnconstrained));
        cmd.Parameters.AddWithValue("n", max);
        return await ExecuteClaimAsync(cmd, workerId, lease, ct);
    }

    /// <summary>
    /// The eager hand-off: the same claim as <see cref="ClaimAsync"/> (same order, SKIP
    /// LOCKED, lease, attempt row), made inside a completion's transaction for the worker
    /// that reported it, so a task queued by that completion starts without a NOTIFY and
    /// another claim round trip. It takes the head of the queue, not necessarily the tasks
    /// just queued: older and higher-priority work goes first, as with any claim. Constrained
    /// tasks are never handed off (their slots are counted only by
    /// <see cref="ClaimConstrainedAsync"/>). Nothing is handed off unless the transaction
    /// commits: a rollback leaves the tasks queued.
    /// </summary>
    public static async Task<List<ClaimedTask>> HandOffAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string workerId, int max, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ClaimSql(PickUnconstrained, events: false), connection, tx);
        cmd.Parameters.AddWithValue("n", max);
        return await ExecuteClaimAsync(cmd, workerId, lease, ct);
    }

    private const string PickUnconstrained = """
        select id from runs.task_instances
        where state = 'queued' and not constrained
        order by priority desc, queued_at, id
        limit @n
        for update skip locked
        """;

    /// <param name="events">False for a hand-off, whose <c>running</c> rows its completion's epilogue writes after the completion's own.</param>
    private static string ClaimSql(string pick, bool events = true) => $"""
        with picked as ({pick}),
        claimed as (
            update runs.task_instances ti
            set state = 'running', attempt = ti.attempt + 1, worker_id = @w, started_at = now(), lease_expires_at = now() + @lease
            from picked where ti.id = picked.id
            returning ti.id, ti.run_id, ti.task_id, ti.attempt, ti.started_at, ti.pool, ti.queued_at, ti.map_index, ti.map_item),
        {(events ? Events.RunEvents.TaskEventsCte("claimed", TaskStates.Running) + "," : "")}
        attempts as (
            insert into runs.task_attempts (task_instance_id, attempt, run_id, task_id, worker_id, state, started_at)
            select id, attempt, run_id, task_id, @w, 'running', started_at from claimed
            on conflict (task_instance_id, attempt) do update
            set worker_id = excluded.worker_id, state = 'running', finished_at = null,
                started_at = case when runs.task_attempts.state = 'waiting' then runs.task_attempts.started_at else excluded.started_at end,
                deliveries = runs.task_attempts.deliveries + case when runs.task_attempts.state = 'waiting' then 0 else 1 end,
                log = runs.task_attempts.log || case when runs.task_attempts.state = 'waiting' then E'--- poke ---\n'
                                                     else E'\n--- delivered again: the previous worker was lost ---\n' end)
        select c.id, c.run_id, c.task_id, c.attempt, r.dag_id, r.dag_name, r.dag_version, r.logical_date, r.params::text, c.pool, r.traceparent,
               coalesce(extract(epoch from c.started_at - c.queued_at), 0)::float8, c.map_index, c.map_item::text
        from claimed c join runs.dag_runs r on r.id = c.run_id
        {(events ? Events.RunEvents.Woken("claimed") : "")}
        """;

    private static async Task<List<ClaimedTask>> ExecuteClaimAsync(NpgsqlCommand cmd, string workerId, TimeSpan lease, CancellationToken ct)
    {
        cmd.Parameters.AddWithValue("w", workerId);
        cmd.Parameters.AddWithValue("lease", lease);
        var claimed = new List<ClaimedTask>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            claimed.Add(new ClaimedTask(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4),
                reader.GetString(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetString(8), reader.GetString(9),
                reader.IsDBNull(10) ? null : reader.GetString(10), reader.GetDouble(11), reader.GetInt32(12), reader.IsDBNull(13) ? null : reader.GetString(13)));
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

        var candidates = new List<ConstrainedCandidate>();
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
                candidates.Add(new ConstrainedCandidate(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt32(3)));
        if (candidates.Count == 0)
            return [];

        var poolFree = new Dictionary<string, int?>();
        await using (var cmd = new NpgsqlCommand("""
            select p.name, p.slots - (select count(*)::int from runs.task_instances r where r.state = 'running' and r.worker_id is not null and r.pool = p.name)
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
            where ti.state = 'running' and ti.worker_id is not null and r.dag_id = any(@dags) group by r.dag_id
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("dags", candidates.Select(c => c.DagId).Distinct().ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                dagRunning[reader.GetInt64(0)] = reader.GetInt32(1);
        }

        var chosen = ConstrainedSlots.Choose(candidates, poolFree, dagRunning, max);
        if (chosen.Count == 0)
            return [];
        await using var claim = new NpgsqlCommand(ClaimSql("select unnest(@ids) as id"), connection, tx);
        claim.Parameters.AddWithValue("ids", chosen.ToArray());
        var claimed = await ExecuteClaimAsync(claim, workerId, lease, ct);
        await tx.CommitAsync(ct);
        return claimed;
    }
}
