using Npgsql;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// Wakes parked waits and fails runs past their DAG's timeout, for the scheduler loop's
/// maintenance. A parked wait holds no worker slot: only these scans (over partial indexes
/// of waiting tasks and of running runs with a timeout) look at it, and only once it is due.
/// </summary>
internal sealed class WaitWakeups(NpgsqlDataSource dataSource, TaskCompletion completion, RunOperations operations, ILogger<WaitWakeups> logger)
{
    private const int Batch = 1000;
    private const int CompletionBatch = 200;

    /// <summary>
    /// Requeues due pokes (one statement, SKIP LOCKED, so replicas never poke a task twice at
    /// once), then ends waits that are over or timed out through the completion path, which
    /// checks each under its row lock again. Returns how many tasks moved.
    /// </summary>
    public async Task<int> WakeAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var moved = 0;
        var reports = new List<CompleteTask>();
        await using (var cmd = new NpgsqlCommand("""
            select id, run_id, task_id, attempt, not_before, wait_deadline, wait_poke, now()
            from runs.task_instances
            where state = 'waiting' and not_before <= now() and (not wait_poke or wait_deadline <= now())
            order by not_before
            limit @n
            """, connection))
        {
            cmd.Parameters.AddWithValue("n", Batch);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var wakeAt = reader.GetFieldValue<DateTimeOffset>(4);
                DateTimeOffset? deadline = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5);
                var action = WaitDecisions.OnWake(reader.GetFieldValue<DateTimeOffset>(7), wakeAt, deadline, reader.GetBoolean(6));
                if (action is WakeAction.Finish or WakeAction.TimeOut)
                    reports.Add(Report(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), action, wakeAt));
            }
        }
        foreach (var chunk in reports.Chunk(CompletionBatch))
            moved += (await completion.WakeAsync(chunk, ct)).Counted;

        await using (var cmd = new NpgsqlCommand("""
            with due as (
                select id from runs.task_instances
                where state = 'waiting' and not_before <= now() and wait_poke and (wait_deadline is null or wait_deadline > now())
                order by not_before
                limit @n
                for update skip locked)
            update runs.task_instances ti set state = 'queued', attempt = ti.attempt - 1, queued_at = now(), not_before = null
            from due where ti.id = due.id
            returning ti.constrained
            """, connection))
        {
            cmd.Parameters.AddWithValue("n", Batch);
            moved += await QueueMaintenance.RequeuedAsync(connection, cmd, ct);
        }
        return moved;
    }

    private static CompleteTask Report(long id, long runId, string taskId, int attempt, WakeAction action, DateTimeOffset wakeAt) => action == WakeAction.Finish
        ? new CompleteTask(id, runId, taskId, attempt, "", AttemptOutcome.Success, null, null, $"--- waited until {wakeAt:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} ---\n")
        : new CompleteTask(id, runId, taskId, attempt, "", AttemptOutcome.TimedOut, null, "the wait timed out (the task's timeout)", "--- the wait timed out (the task's timeout) ---\n");

    /// <summary>
    /// Fails runs still going past their DAG's timeout, each in its own run transaction (its
    /// running tasks are told to stop, as a cancel tells them). Returns how many.
    /// </summary>
    public async Task<int> TimeOutRunsAsync(CancellationToken ct)
    {
        var due = new List<(long Id, TimeSpan Timeout)>();
        await using (var cmd = dataSource.CreateCommand("""
            select id, run_timeout from runs.dag_runs
            where run_timeout is not null and state = 'running' and started_at + run_timeout <= now()
            order by started_at limit 100
            """))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                due.Add((reader.GetInt64(0), reader.GetFieldValue<TimeSpan>(1)));
        var failed = 0;
        foreach (var (id, timeout) in due)
            if (await operations.TimeOutRunAsync(id, $"timed out: still running {System.Xml.XmlConvert.ToString(timeout)} after it started (the DAG's 'timeout'); its unfinished tasks were cancelled", ct) is { Cancelled: true })
                failed++;
        if (failed > 0)
            logger.LogWarning("Failed {Count} run(s) past their DAG's timeout", failed);
        return failed;
    }
}
