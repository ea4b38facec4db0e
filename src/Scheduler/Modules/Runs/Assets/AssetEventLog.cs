using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs.Assets;

/// <summary>An asset event to record: from a task's outlet (with its source) or posted by an external system.</summary>
internal sealed record NewAssetEvent(string Uri, JsonObject Extra, string? SourceDag = null, long? SourceRunId = null, string? SourceTaskId = null, string? CreatedBy = null);

/// <summary>
/// The one writer of asset events, inside the caller's transaction (a task's success, a posted
/// event), so an event exists exactly when its cause committed.
/// </summary>
internal static class AssetEventLog
{
    /// <summary>
    /// Records the events and wakes the scheduler loop at commit. Each URI's events are inserted
    /// under a transaction advisory lock on that URI (two-key lock (4, hash of the URI)), taken
    /// in one order, so one URI's ids commit in id order: a consumer's cursor, the last id it
    /// consumed, can never pass over an event of that URI still to commit. Returns the ids.
    /// </summary>
    public static async Task<long[]> RecordAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<NewAssetEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return [];
        await using (var lockCmd = new NpgsqlCommand("""
            select pg_advisory_xact_lock(4, k) from (select distinct hashtext(u) as k from unnest(@uris) as u order by 1 offset 0) as s
            """, connection, tx))
        {
            lockCmd.Parameters.AddWithValue("uris", events.Select(e => e.Uri).Distinct(StringComparer.Ordinal).ToArray());
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        var ids = new List<long>(events.Count);
        await using (var cmd = new NpgsqlCommand("""
            with added as (
                insert into runs.asset_events (uri, extra, source_dag, source_run_id, source_task_id, created_by, created_at)
                select u, x, d, r, t, b, now() from unnest(@u, @x, @d, @r, @t, @b) with ordinality as v(u, x, d, r, t, b, i) order by i
                returning id, uri),
            counted as (
                insert into runs.assets (uri, event_count, last_event_id, first_seen_at)
                select uri, count(*), max(id), now() from added group by uri
                on conflict (uri) do update set event_count = runs.assets.event_count + excluded.event_count,
                                                last_event_id = greatest(runs.assets.last_event_id, excluded.last_event_id))
            select id from added order by id
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("u", events.Select(e => e.Uri).ToArray());
            cmd.Parameters.Add(new NpgsqlParameter("x", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = events.Select(e => e.Extra.ToJsonString()).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => (object?)e.SourceDag ?? DBNull.Value).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("r", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = events.Select(e => (object?)e.SourceRunId ?? DBNull.Value).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("t", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => (object?)e.SourceTaskId ?? DBNull.Value).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter("b", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => (object?)e.CreatedBy ?? DBNull.Value).ToArray() });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                ids.Add(reader.GetInt64(0));
        }
        // The loop listens on the schedule channel; delivered at commit, dropped on rollback.
        await using (var notify = new NpgsqlCommand("select pg_notify(@channel, '')", connection, tx))
        {
            notify.Parameters.AddWithValue("channel", ScheduleChannels.Changed);
            await notify.ExecuteNonQueryAsync(ct);
        }
        return ids.ToArray();
    }

    /// <summary>The outlets of a task's plan (<c>outlets</c> in its spec); empty when it has none.</summary>
    public static IReadOnlyList<string> OutletsOf(TaskPlan? task) =>
        task?.Spec["outlets"] is JsonArray outlets ? outlets.Select(o => o?.GetValue<string>()).OfType<string>().ToList() : [];
}
