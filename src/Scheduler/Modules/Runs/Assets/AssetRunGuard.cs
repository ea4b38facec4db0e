using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using Scheduler.Infrastructure.Json;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs.Assets;

/// <summary>
/// Makes one asset run of a consumer DAG exactly-once: under the DAG's run-start lock it reads
/// the DAG's cursors and the events past them, creates the run only when every asset has one,
/// and records in the same transaction the run, the consumed events (<c>runs.asset_triggers</c>,
/// keyed by the DAG's next serial) and the advanced cursors. A second replica deciding on the
/// same condition waits for the lock, then sees the cursors moved and creates nothing.
/// </summary>
internal sealed class AssetRunGuard(AssetConsumer consumer) : IRunCreationGuard
{
    /// <summary>Events per asset carried in the run's conf (the newest); the trigger row counts them all.</summary>
    public const int EventsInConf = 50;

    private sealed record Pending(string Uri, long First, long Last, long Count);

    private List<Pending> _pending = [];
    private long _serial;

    public async Task<IReadOnlyList<NewRun>> BeforeInsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<NewRun> runs, CancellationToken ct)
    {
        _pending = [];
        await using (var cmd = new NpgsqlCommand("""
            select c.uri, p.first_id, p.last_id, p.n
            from unnest(@uris) as c(uri)
            left join runs.asset_cursors k on k.dag_id = @dag and k.uri = c.uri
            cross join lateral (
                select min(e.id) as first_id, max(e.id) as last_id, count(*) as n from runs.asset_events e
                where e.uri = c.uri and e.id > coalesce(k.last_event_id, 0) and (k.last_event_id is not null or e.created_at >= @since)) p
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("uris", consumer.Uris.ToArray());
            cmd.Parameters.AddWithValue("dag", consumer.DagId);
            cmd.Parameters.AddWithValue("since", consumer.Since);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (reader.IsDBNull(1))
                    return [];
                _pending.Add(new Pending(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
        }
        var events = new JsonArray();
        await using (var cmd = new NpgsqlCommand($"""
            select {AssetEventInfo.Columns} from (
                select e.* from unnest(@uris, @first, @last) as c(uri, f, l)
                cross join lateral (select * from runs.asset_events e where e.uri = c.uri and e.id between c.f and c.l order by e.id desc limit {EventsInConf}) e) e
            order by id
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("uris", _pending.Select(p => p.Uri).ToArray());
            cmd.Parameters.AddWithValue("first", _pending.Select(p => p.First).ToArray());
            cmd.Parameters.AddWithValue("last", _pending.Select(p => p.Last).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                events.Add(JsonSerializer.SerializeToNode(AssetEventInfo.Read(reader), JsonConventions.Options));
        }
        await using (var cmd = new NpgsqlCommand("select coalesce(max(serial), 0) + 1 from runs.asset_triggers where dag_id = @dag", connection, tx))
        {
            cmd.Parameters.AddWithValue("dag", consumer.DagId);
            _serial = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }
        var conf = new JsonObject { ["asset_events"] = events, ["asset_event_count"] = _pending.Sum(p => p.Count) };
        return [runs[0] with { Conf = conf }];
    }

    public async Task AfterInsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<NewRun> runs, long?[] ids, CancellationToken ct)
    {
        // Not created (a run at the same instant exists): nothing is consumed, the next scan tries again.
        if (ids.Length == 0 || ids[0] is not { } runId)
            return;
        var consumed = new JsonArray(_pending.Select(p => (JsonNode)new JsonObject
        {
            ["uri"] = p.Uri, ["first_event_id"] = p.First, ["last_event_id"] = p.Last, ["count"] = p.Count,
        }).ToArray());
        await using var batch = new NpgsqlBatch(connection, tx);
        var trigger = new NpgsqlBatchCommand("insert into runs.asset_triggers (dag_id, serial, run_id, consumed, created_at) values (@dag, @serial, @run, @consumed, now())");
        trigger.Parameters.AddWithValue("dag", consumer.DagId);
        trigger.Parameters.AddWithValue("serial", _serial);
        trigger.Parameters.AddWithValue("run", runId);
        trigger.Parameters.Add(new NpgsqlParameter("consumed", NpgsqlDbType.Jsonb) { Value = consumed.ToJsonString() });
        batch.BatchCommands.Add(trigger);
        var cursors = new NpgsqlBatchCommand("""
            insert into runs.asset_cursors (dag_id, uri, last_event_id)
            select @dag, u, l from unnest(@uris, @last) as v(u, l)
            on conflict (dag_id, uri) do update set last_event_id = greatest(runs.asset_cursors.last_event_id, excluded.last_event_id)
            """);
        cursors.Parameters.AddWithValue("dag", consumer.DagId);
        cursors.Parameters.AddWithValue("uris", _pending.Select(p => p.Uri).ToArray());
        cursors.Parameters.AddWithValue("last", _pending.Select(p => p.Last).ToArray());
        batch.BatchCommands.Add(cursors);
        await batch.ExecuteNonQueryAsync(ct);
    }
}
