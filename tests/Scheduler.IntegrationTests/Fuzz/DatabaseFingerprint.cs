using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Fuzz;

/// <summary>
/// A hash of what API requests write, to prove that a refused request wrote nothing. It
/// covers the columns only a request changes and leaves out what the server changes on its
/// own while the fuzz runs, so a run finishing or a heartbeat never looks like a leak:
/// <list type="bullet">
/// <item>left out whole: <c>workers.nodes</c> (heartbeats), <c>workers.data_protection_keys</c>
/// (the key ring), <c>runs.task_instances</c> and <c>runs.task_attempts</c> (the engine moves
/// them; a request's clear or mark shows in nothing else), <c>notifications.events</c> and
/// <c>deliveries</c> (the outbox dispatcher and its retries), and the hangfire and quartz
/// schemas;</item>
/// <item>left out as columns: a DAG's <c>next_run_at</c> and <c>updated_at</c>, a run's state and
/// times (only manual runs, which only a trigger creates, are counted), a monitor's state and
/// expected times, a channel's digest clock;</item>
/// <item>dead letters only once requeued (the engine adds new ones; only a request requeues).</item>
/// <item>the audit trail: a refused request leaves no entry.</item>
/// </list>
/// </summary>
public static class DatabaseFingerprint
{
    private const string Sql = """
        select md5(concat_ws('|',
          (select string_agg(concat_ws(',', name, description, owner, tags::text, paused, version, hash, cron, interval_seconds, timezone), ';' order by name) from dags.dags),
          (select string_agg(concat_ws(',', dag_id, version, hash), ';' order by dag_id, version) from dags.dag_versions),
          (select string_agg(concat_ws(',', id, name, role, expires_at, revoked_at), ';' order by id) from access.api_keys),
          (select string_agg(concat_ws(',', id, username, role, password_hash), ';' order by id) from access.users),
          (select string_agg(concat_ws(',', id, dag_name, logical_date, conf::text), ';' order by id) from runs.dag_runs where run_type = 'manual'),
          (select string_agg(concat_ws(',', id, requeued_at), ';' order by id) from runs.dead_letters where requeued_at is not null),
          (select string_agg(concat_ws(',', name, slots, description), ';' order by name) from runs.pools),
          (select string_agg(concat_ws(',', name, type, settings::text, secret, secret_fields::text, digest_cron, digest_timezone), ';' order by name) from notifications.channels),
          (select string_agg(concat_ws(',', position, events::text, channel), ';' order by position) from notifications.global_rules),
          (select string_agg(concat_ws(',', name, description, cron, interval_seconds, timezone, grace_seconds, channels::text, token_hash, paused), ';' order by name) from notifications.monitors),
          (select string_agg(concat_ws(',', id, monitor_id, kind, message), ';' order by id) from notifications.pings),
          (select string_agg(concat_ws(',', name, kind, description, secret), ';' order by name) from workers.connections),
          (select string_agg(concat_ws(',', id, action, target), ';' order by id) from audit.entries)))
        """;

    public static async Task<string> TakeAsync() => (await TestDatabase.ScalarAsync<string>(Sql))!;
}
