using Npgsql;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>A worker that exists only in the database: claims a task for tests to report on, or to lose.</summary>
public static class FakeWorker
{
    /// <summary>
    /// Claims the queued task for <paramref name="worker"/> the way the engine's claim does:
    /// the attempt counter moves on, and an attempt delivered again (its lease expired and
    /// the reaper requeued it) counts one more delivery. A negative <paramref name="lease"/>
    /// is a worker that died the moment it took the task.
    /// </summary>
    public static async Task<(long Id, int Attempt)> ClaimAsync(long runId, string taskId, string worker, TimeSpan lease)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            with claimed as (
                update runs.task_instances set state = 'running', attempt = attempt + 1, worker_id = @w, started_at = now(), lease_expires_at = now() + @lease
                where run_id = @r and task_id = @t and state = 'queued'
                returning id, run_id, task_id, attempt, started_at),
            attempts as (
                insert into runs.task_attempts (task_instance_id, attempt, run_id, task_id, worker_id, state, started_at)
                select id, attempt, run_id, task_id, @w, 'running', started_at from claimed
                on conflict (task_instance_id, attempt) do update
                set worker_id = excluded.worker_id, state = 'running', finished_at = null, deliveries = runs.task_attempts.deliveries + 1)
            select id, attempt from claimed
            """, connection);
        cmd.Parameters.AddWithValue("w", worker);
        cmd.Parameters.AddWithValue("lease", lease);
        cmd.Parameters.AddWithValue("r", runId);
        cmd.Parameters.AddWithValue("t", taskId);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"task {taskId} of run {runId} is not queued");
        return (reader.GetInt64(0), reader.GetInt32(1));
    }
}
