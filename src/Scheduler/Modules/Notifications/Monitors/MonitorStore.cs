using System.Globalization;
using Npgsql;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Notifications.Delivery;

namespace Scheduler.Modules.Notifications.Monitors;

internal static class MonitorStates
{
    public const string New = "new";
    public const string Up = "up";
    public const string Running = "running";
    public const string Late = "late";
    public const string Failed = "failed";
}

/// <summary>A monitor row as the API shows it (never the token).</summary>
internal sealed record MonitorRow(
    long Id, string Name, string? Description, string? Cron, TimeSpan? Interval, string Timezone, TimeSpan Grace, string[] Channels,
    string State, bool Paused, DateTimeOffset? ExpectedAt, DateTimeOffset? DeadlineAt, DateTimeOffset? LastPingAt,
    DateTimeOffset? LastStartAt, DateTimeOffset? LastSuccessAt, DateTimeOffset? LastFailureAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Team = null)
{
    public string ScheduleText => Cron ?? $"every {Messages.Duration(Interval!.Value)}";

    /// <summary>The schedule of expected check-ins; an interval is anchored at the monitor's creation.</summary>
    public ISchedule Schedule()
    {
        if (Interval is { } period)
            return new IntervalSchedule(period, CreatedAt);
        TimeZones.TryFind(Timezone, out var zone);
        return CronSchedule.TryParse(Cron!, zone, out var cron, out _) ? cron! : throw new InvalidOperationException($"Monitor {Name} has an invalid cron expression.");
    }

    /// <summary>
    /// The check-in expected after one at <paramref name="now"/>: the next fire time, unless that
    /// is so close that this ping was early for it (within the grace, and under half a period),
    /// in which case the one after.
    /// </summary>
    public DateTimeOffset? NextExpected(DateTimeOffset now)
    {
        var schedule = Schedule();
        if (schedule.Next(now) is not { } next)
            return null;
        var following = schedule.Next(next);
        var halfPeriod = following is null ? TimeSpan.Zero : (following.Value - next) / 2;
        return next - now <= Grace && next - now < halfPeriod ? following : next;
    }
}

internal static class MonitorStore
{
    public const string Columns = "id, name, description, cron, interval_seconds, timezone, grace_seconds, channels, state, paused, expected_at, deadline_at, last_ping_at, last_start_at, last_success_at, last_failure_at, created_at, updated_at, team";

    public static MonitorRow Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
        r.IsDBNull(4) ? null : TimeSpan.FromSeconds(r.GetInt64(4)), r.GetString(5), TimeSpan.FromSeconds(r.GetInt64(6)), r.GetFieldValue<string[]>(7),
        r.GetString(8), r.GetBoolean(9), Instant(r, 10), Instant(r, 11), Instant(r, 12), Instant(r, 13), Instant(r, 14), Instant(r, 15),
        r.GetFieldValue<DateTimeOffset>(16), r.GetFieldValue<DateTimeOffset>(17), r.IsDBNull(18) ? null : r.GetString(18));

    private static DateTimeOffset? Instant(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);

    public static async Task<List<MonitorRow>> QueryAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string where, Action<NpgsqlParameterCollection> parameters, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"select {Columns} from notifications.monitors {where}", connection, tx);
        parameters(cmd.Parameters);
        var rows = new List<MonitorRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            rows.Add(Read(reader));
        return rows;
    }

    /// <summary>The monitor named so, or null; <paramref name="forUpdate"/> locks its row until <paramref name="tx"/> ends.</summary>
    public static async Task<MonitorRow?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string name, bool forUpdate, CancellationToken ct) =>
        (await QueryAsync(connection, tx, forUpdate ? "where name = @n for update" : "where name = @n", p => p.AddWithValue("n", name), ct)).FirstOrDefault();

    public static async Task<string[]> ChannelsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long monitorId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select channels from notifications.monitors where id = @id", connection, tx);
        cmd.Parameters.AddWithValue("id", monitorId);
        return await cmd.ExecuteScalarAsync(ct) as string[] ?? [];
    }

    private static async Task<string?> LastMessageAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long monitorId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select message from notifications.pings where monitor_id = @id order by id desc limit 1", connection, tx);
        cmd.Parameters.AddWithValue("id", monitorId);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    private static MonitorFacts Facts(MonitorRow m, string? lastMessage) =>
        new(m.Name, m.Paused ? "paused" : m.State, m.ScheduleText, m.Timezone, m.Grace, m.ExpectedAt, m.LastSuccessAt, lastMessage);

    public static async Task<MonitorFacts?> FactsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long monitorId, CancellationToken ct)
    {
        var rows = await QueryAsync(connection, tx, "where id = @id", p => p.AddWithValue("id", monitorId), ct);
        return rows.Count == 0 ? null : Facts(rows[0], await LastMessageAsync(connection, tx, monitorId, ct));
    }

    public static async Task<IReadOnlyList<MonitorFacts>> AllFactsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct) =>
        (await QueryAsync(connection, tx, "order by name limit 5000", _ => { }, ct)).Select(m => Facts(m, null)).ToList();

    /// <summary>An outbox event about a monitor (its channels are looked up when it is dispatched).</summary>
    public static Task WriteEventAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string kind, string dedupKey, long monitorId, string? detail, CancellationToken ct) =>
        NotificationOutbox.WriteAsync(connection, tx, [new OutboxEvent(kind, dedupKey, null, null, Detail: detail, MonitorId: monitorId)], ct);
}

/// <summary>Monitors past their deadline become late, with one alert per missed check-in.</summary>
internal static class MonitorChecks
{
    public static async Task<int> CheckDeadlinesAsync(NpgsqlDataSource dataSource, TimeProvider clock, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var late = await MonitorStore.QueryAsync(connection, tx,
            "where deadline_at <= now() and not paused order by deadline_at limit 200 for update skip locked", _ => { }, ct);
        foreach (var m in late)
        {
            await using (var cmd = new NpgsqlCommand("update notifications.monitors set state = 'late', deadline_at = null where id = @id", connection, tx))
            {
                cmd.Parameters.AddWithValue("id", m.Id);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            var detail = m.State == MonitorStates.Running
                ? $"{m.Name} started at {Messages.Instant(m.LastStartAt)} but has not reported success by {Messages.Instant(m.DeadlineAt)}."
                : $"{m.Name} was expected to check in at {Messages.Instant(m.ExpectedAt)} (grace {Messages.Duration(m.Grace)}); no ping arrived.";
            await MonitorStore.WriteEventAsync(connection, tx, NotificationEvents.MonitorLate,
                $"monitor_late:{m.Id}:{(m.ExpectedAt ?? m.DeadlineAt)!.Value.UtcTicks.ToString(CultureInfo.InvariantCulture)}", m.Id, detail, ct);
        }
        await tx.CommitAsync(ct);
        return late.Count;
    }
}
