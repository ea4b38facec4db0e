using Npgsql;

namespace Scheduler.Modules.Notifications.Contracts;

/// <summary>What happened, in the words of notification rules (a DAG's <c>notifications[].on</c>).</summary>
public static class NotificationEvents
{
    public const string RunSuccess = "success";
    public const string RunFailure = "failure";
    public const string TaskRetry = "retry";
    public const string TaskFailure = "task_failure";
    public const string SlaMiss = "sla_miss";
    public const string DeadLetter = "dead_letter";
    public const string MonitorLate = "monitor_late";
    public const string MonitorFailed = "monitor_failed";
    public const string MonitorRecovered = "monitor_recovered";
    public const string Digest = "digest";

    /// <summary>The events a DAG rule or a global rule may name.</summary>
    public static readonly IReadOnlyList<string> RuleEvents = [RunFailure, RunSuccess, TaskRetry, TaskFailure, SlaMiss, DeadLetter];
}

/// <summary>One event for the outbox. <paramref name="DedupKey"/> is unique: writing it twice is a no-op.</summary>
/// <paramref name="MonitorId"/> routes the event to a monitor's channels, <paramref name="ChannelId"/> to one channel (a digest).
/// <paramref name="DagRuleNamesIt"/> false says no rule of the event's DAG names its kind: it is then written only when a
/// global rule does (most runs notify nobody, and an event nobody listens to costs the dispatcher work for nothing).
public sealed record OutboxEvent(string Kind, string DedupKey, string? DagName, long? RunId, string? TaskId = null, int? Attempt = null, string? Detail = null,
    long? MonitorId = null, long? ChannelId = null, bool DagRuleNamesIt = true);

/// <summary>
/// Writes notification events in the caller's transaction, so an event exists exactly when
/// the state change it reports was committed. One statement, which also wakes the dispatcher.
/// An event no rule names (neither its DAG's nor a global one, read in the same statement)
/// is not written at all.
/// </summary>
public static class NotificationOutbox
{
    public const string WakeChannel = "scheduler_notifications";

    /// <summary>The NOTIFY payload that says a monitor deadline or a digest time changed.</summary>
    public const string TimesChanged = "times";

    /// <summary>Tells every replica's dispatcher that monitor deadlines or digest times changed.</summary>
    public static async Task TimesChangedAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"select pg_notify('{WakeChannel}', '{TimesChanged}')", connection, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyCollection<OutboxEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return;
        await using var cmd = new NpgsqlCommand($"""
            with added as (
                insert into notifications.events (kind, dedup_key, dag_name, run_id, task_id, attempt, detail, monitor_id, channel_id)
                select kind, key, dag, run, task, attempt, detail, monitor, channel
                from unnest(@kind, @key, @dag, @run, @task, @attempt, @detail, @monitor, @channel, @named) as x(kind, key, dag, run, task, attempt, detail, monitor, channel, named)
                where x.named or exists (select 1 from notifications.global_rules g where x.kind = any(g.events))
                on conflict (dedup_key) do nothing
                returning 1)
            select pg_notify('{WakeChannel}', '') where exists (select 1 from added)
            """, connection, tx);
        cmd.Parameters.AddWithValue("kind", events.Select(e => e.Kind).ToArray());
        cmd.Parameters.AddWithValue("key", events.Select(e => e.DedupKey).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("dag", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = events.Select(e => (object?)e.DagName ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("run", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint) { Value = events.Select(e => (object?)e.RunId ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("task", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = events.Select(e => (object?)e.TaskId ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("attempt", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Integer) { Value = events.Select(e => (object?)e.Attempt ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("detail", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = events.Select(e => (object?)Truncate(e.Detail) ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("monitor", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint) { Value = events.Select(e => (object?)e.MonitorId ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("channel", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint) { Value = events.Select(e => (object?)e.ChannelId ?? DBNull.Value).ToArray() });
        cmd.Parameters.AddWithValue("named", events.Select(e => e.DagRuleNamesIt || e.MonitorId is not null || e.ChannelId is not null).ToArray());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static string? Truncate(string? text) => text is { Length: > 2000 } ? text[..2000] : text;
}
