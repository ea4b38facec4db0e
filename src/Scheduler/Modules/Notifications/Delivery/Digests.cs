using Npgsql;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications.Delivery;

/// <summary>Digest channels' clock: an event when a channel's digest time comes, and its next time.</summary>
internal static class Digests
{
    /// <summary>Channels whose digest time came: one digest event each, and the next time.</summary>
    public static async Task DueAsync(NpgsqlDataSource dataSource, TimeProvider clock, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var due = new List<(long Id, string Name, string Cron, string Zone, DateTimeOffset At)>();
        await using (var cmd = new NpgsqlCommand("""
            select id, name, digest_cron, digest_timezone, digest_next_at from notifications.channels
            where digest_next_at <= now() order by id limit 100 for update skip locked
            """, connection, tx))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                due.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }
        if (due.Count == 0)
            return;
        var now = clock.GetUtcNow();
        foreach (var d in due)
        {
            DateTimeOffset? next = null;
            if (TimeZones.TryFind(d.Zone, out var zone) && CronSchedule.TryParse(d.Cron, zone, out var schedule, out _))
                next = schedule!.Next(now);
            await using (var cmd = new NpgsqlCommand("update notifications.channels set digest_next_at = @next where id = @id", connection, tx))
            {
                cmd.Parameters.AddWithValue("next", (object?)next ?? DBNull.Value);
                cmd.Parameters.AddWithValue("id", d.Id);
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }
        await NotificationOutbox.WriteAsync(connection, tx,
            due.Select(d => new OutboxEvent(NotificationEvents.Digest, $"digest:{d.Id}:{d.At.UtcTicks}", null, null, ChannelId: d.Id)).ToList(), ct);
        await tx.CommitAsync(ct);
    }
}
