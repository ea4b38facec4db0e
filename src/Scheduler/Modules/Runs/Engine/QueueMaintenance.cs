using Npgsql;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// The queue's upkeep: leases (renewed, expired, handed back), retries coming due, SLA misses,
/// and when the scheduler loop must look again. Every requeue is a conditional update, so
/// two replicas doing this at once for a moment double nothing.
/// </summary>
internal sealed class QueueMaintenance(NpgsqlDataSource dataSource, TaskCompletion completion, EngineOptions options, ILogger<QueueMaintenance> logger)
{
    /// <summary>
    /// Extends the leases of a worker's running tasks and returns the ones it holds that are
    /// no longer running for it (cancelled or reassigned), which it must stop. The rows are
    /// locked in id order, the order a completion locks them in: a plain UPDATE locks them in
    /// the order its scan meets them (the worker index's, physical), and deadlocked with the
    /// worker's own completion batches under load (issue 12).
    /// </summary>
    public async Task<IReadOnlyList<long>> HeartbeatAsync(string workerId, IReadOnlyCollection<long> running, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            with locked as (
                select id from runs.task_instances
                where worker_id = @w and state = 'running' and id = any(@ids)
                order by id
                for update),
            extended as (
                update runs.task_instances ti set lease_expires_at = now() + @lease
                from locked where ti.id = locked.id
                returning ti.id)
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
    /// Ends the leases of attempts whose worker gave up recording their outcome, so the next
    /// maintenance requeues them. The NOTIFY wakes the scheduler loop's maintenance should
    /// its last look have found nothing to watch.
    /// </summary>
    public async Task<int> ExpireLeasesAsync(string workerId, IReadOnlyCollection<(long TaskInstanceId, int Attempt)> attempts, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            update runs.task_instances ti set lease_expires_at = now()
            from unnest(@ids, @attempts) as v(id, attempt)
            where ti.id = v.id and ti.attempt = v.attempt and ti.worker_id = @w and ti.state = 'running'
            """, connection);
        cmd.Parameters.AddWithValue("ids", attempts.Select(a => a.TaskInstanceId).ToArray());
        cmd.Parameters.AddWithValue("attempts", attempts.Select(a => a.Attempt).ToArray());
        cmd.Parameters.AddWithValue("w", workerId);
        var expired = await cmd.ExecuteNonQueryAsync(ct);
        if (expired > 0)
            await RunUnitOfWork.NotifyQueuedAsync(connection, null, false, ct);
        return expired;
    }

    /// <summary>
    /// Requeues running tasks whose lease expired: their worker died or lost the database.
    /// The attempt number is kept, so the re-delivery carries the same idempotency key:
    /// this is what makes execution AT LEAST once, never zero times. An attempt that loses
    /// its worker for the <see cref="EngineOptions.MaxDeliveries"/>-th time is not requeued
    /// but failed: a task that kills its worker would otherwise kill one after another forever.
    /// </summary>
    public async Task<int> ReapExpiredLeasesAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand($"""
            with expired as (
                select ti.id from runs.task_instances ti
                left join runs.task_attempts a on a.task_instance_id = ti.id and a.attempt = ti.attempt
                where ti.state = 'running' and ti.lease_expires_at < now() and coalesce(a.lost_deliveries, 0) + 1 < @max
                for update of ti skip locked),
            requeued as (
                update runs.task_instances ti
                set state = 'queued', attempt = ti.attempt - 1, worker_id = null, lease_expires_at = null, queued_at = now()
                from expired where ti.id = expired.id
                returning ti.id, ti.attempt + 1 as attempt, ti.constrained, ti.run_id, ti.task_id, ti.map_index),
            {Events.RunEvents.TaskEventsCte("requeued", TaskStates.Queued)}
            update runs.task_attempts a set state = 'lost', finished_at = now(), lost_deliveries = a.lost_deliveries + 1
            from requeued r {Events.RunEvents.Woken("requeued")} where a.task_instance_id = r.id and a.attempt = r.attempt
            returning r.constrained
            """, connection);
        cmd.Parameters.AddWithValue("max", options.MaxDeliveries);
        var count = await RequeuedAsync(connection, cmd, ct);
        if (count > 0)
            logger.LogWarning("Requeued {Count} task(s) whose worker lease expired", count);
        return count + await FailLastDeliveriesAsync(connection, ct);
    }

    /// <summary>
    /// Read without locks; <see cref="TaskCompletion.FailLostAsync"/> takes the run locks
    /// first and the task locks after, in the order every completion takes them, and checks
    /// again that each lease is still expired.
    /// </summary>
    private async Task<int> FailLastDeliveriesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var lost = new List<CompleteTask>();
        await using (var cmd = new NpgsqlCommand("""
            select ti.id, ti.run_id, ti.task_id, ti.attempt, ti.worker_id, a.lost_deliveries + 1
            from runs.task_instances ti
            join runs.task_attempts a on a.task_instance_id = ti.id and a.attempt = ti.attempt
            where ti.state = 'running' and ti.lease_expires_at < now() and a.lost_deliveries + 1 >= @max
            order by ti.id
            limit 500
            """, connection))
        {
            cmd.Parameters.AddWithValue("max", options.MaxDeliveries);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var error = OutcomePolicy.LostError(reader.GetInt32(5));
                lost.Add(new CompleteTask(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3),
                    reader.IsDBNull(4) ? "" : reader.GetString(4), AttemptOutcome.Failed, null, error, $"\n--- lost: {error} ---\n"));
            }
        }
        if (lost.Count == 0)
            return 0;
        var failed = await completion.FailLostAsync(lost, ct);
        if (failed > 0)
            logger.LogError("Failed {Count} task(s) whose worker was lost on each of their {Max} deliveries", failed, options.MaxDeliveries);
        return failed;
    }

    /// <summary>Moves tasks waiting out their retry delay back to the queue once it has passed.</summary>
    public async Task<int> PromoteDueRetriesAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand($"""
            with promoted as (
                update runs.task_instances set state = 'queued', queued_at = now(), not_before = null
                where state = 'up_for_retry' and not_before <= now()
                returning constrained, run_id, task_id, map_index),
            {Events.RunEvents.TaskEventsCte("promoted", TaskStates.Queued)}
            select constrained from promoted {Events.RunEvents.Woken("promoted")}
            """, connection);
        return await RequeuedAsync(connection, cmd, ct);
    }

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

    /// <summary>
    /// What the scheduler loop must wake for, in one statement over partial indexes: whether
    /// any task is queued or running (its lease may expire, so maintenance keeps its short
    /// period), the earliest retry due, the earliest SLA deadline not yet missed, and the
    /// earliest wake-up of a parked wait or run timeout.
    /// </summary>
    public async Task<QueueDeadlines> QueueDeadlinesAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select exists (select 1 from runs.task_instances where state = 'running')
                or exists (select 1 from runs.task_instances where state = 'queued' and not constrained)
                or exists (select 1 from runs.task_instances where state = 'queued' and constrained),
                (select min(not_before) from runs.task_instances where state = 'up_for_retry'),
                (select min(sla_deadline) from runs.dag_runs where sla_missed_at is null and state in ('queued', 'running')),
                least((select min(not_before) from runs.task_instances where state = 'waiting'),
                      (select min(started_at + run_timeout) from runs.dag_runs where run_timeout is not null and state = 'running'))
            """);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new QueueDeadlines(reader.GetBoolean(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
            reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
    }

    /// <summary>
    /// Gives tasks back to the queue on graceful shutdown, under the same attempt number
    /// (they were interrupted, not failed).
    /// </summary>
    public async Task<int> ReleaseAsync(string workerId, IReadOnlyCollection<long> taskInstanceIds, CancellationToken ct)
    {
        if (taskInstanceIds.Count == 0)
            return 0;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand($"""
            with released as (
                update runs.task_instances ti
                set state = 'queued', attempt = ti.attempt - 1, worker_id = null, lease_expires_at = null, queued_at = now()
                where ti.id = any(@ids) and ti.worker_id = @w and ti.state = 'running'
                returning ti.id, ti.attempt + 1 as attempt, ti.run_id, ti.task_id, ti.map_index),
            {Events.RunEvents.TaskEventsCte("released", TaskStates.Queued)}
            update runs.task_attempts a set state = 'interrupted', finished_at = now(),
                log = a.log || E'\n--- interrupted: the worker shut down; the task was requeued ---\n'
            from released r {Events.RunEvents.Woken("released")} where a.task_instance_id = r.id and a.attempt = r.attempt
            """, connection);
        cmd.Parameters.AddWithValue("ids", taskInstanceIds.ToArray());
        cmd.Parameters.AddWithValue("w", workerId);
        var released = await cmd.ExecuteNonQueryAsync(ct);
        await RunUnitOfWork.NotifyQueuedAsync(connection, null, true, ct);
        return released;
    }

    /// <summary>Runs a statement returning one <c>constrained</c> flag per requeued task; wakes the workers if any.</summary>
    public static async Task<int> RequeuedAsync(NpgsqlConnection connection, NpgsqlCommand cmd, CancellationToken ct)
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
            await RunUnitOfWork.NotifyQueuedAsync(connection, null, constrained, ct);
        return count;
    }
}

/// <summary>See <see cref="QueueMaintenance.QueueDeadlinesAsync"/>.</summary>
internal sealed record QueueDeadlines(bool Active, DateTimeOffset? NextRetry, DateTimeOffset? NextSla, DateTimeOffset? NextWake = null);
