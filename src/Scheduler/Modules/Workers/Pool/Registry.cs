using Npgsql;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>The worker nodes table: who is alive, with how many slots and running tasks.</summary>
internal static class Registry
{
    public static Task RegisterAsync(NpgsqlDataSource dataSource, string id, int slots, CancellationToken ct) =>
        HeartbeatAsync(dataSource, id, slots, 0, stopping: false, ct);

    public static async Task HeartbeatAsync(NpgsqlDataSource dataSource, string id, int slots, int running, bool stopping, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            insert into workers.nodes (id, host, pid, slots, running, started_at, heartbeat_at, stopping)
            values (@id, @host, @pid, @slots, @running, now(), now(), @stopping)
            on conflict (id) do update set heartbeat_at = now(), slots = excluded.slots, running = excluded.running, stopping = excluded.stopping
            """);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("host", Environment.MachineName);
        cmd.Parameters.AddWithValue("pid", Environment.ProcessId);
        cmd.Parameters.AddWithValue("slots", slots);
        cmd.Parameters.AddWithValue("running", running);
        cmd.Parameters.AddWithValue("stopping", stopping);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task RemoveAsync(NpgsqlDataSource dataSource, string id, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("delete from workers.nodes where id = @id");
        cmd.Parameters.AddWithValue("id", id);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
