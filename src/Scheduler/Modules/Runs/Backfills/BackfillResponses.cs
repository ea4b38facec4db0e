using System.Text.Json.Serialization;
using Npgsql;

namespace Scheduler.Modules.Runs.Backfills;

/// <summary>A backfill with its progress: runs by state, counted from the runs themselves.</summary>
internal sealed record BackfillInfo(
    long Id,
    string DagName,
    DateTimeOffset From,
    DateTimeOffset To,
    string Reprocess,
    int MaxActiveRuns,
    string State,
    int Total,
    int Created,
    int Queued,
    int Running,
    int Succeeded,
    int Failed,
    int Cancelled,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? CreatedBy,
    DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? FinishedAt);

internal static class BackfillReads
{
    /// <summary>Backfills and their counts in one statement: by id, or a DAG's newest first after a cursor id.</summary>
    public static async Task<List<BackfillInfo>> ReadAsync(NpgsqlDataSource dataSource, long? id, string? dagName, long? beforeId, int limit, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select b.id, b.dag_name, b.from_date, b.to_date, b.reprocess, b.max_active_runs, b.state, b.total, b.created,
                   coalesce(c.queued, 0), coalesce(c.running, 0), coalesce(c.success, 0), coalesce(c.failed, 0), coalesce(c.cancelled, 0),
                   b.created_by, b.created_at, b.finished_at
            from (select * from runs.backfills
                  where (@id::bigint is null or id = @id) and (@dag::text is null or dag_name = @dag) and (@before::bigint is null or id < @before)
                  order by id desc limit @limit) b
            left join lateral (
                select count(*) filter (where state = 'queued')::int as queued, count(*) filter (where state = 'running')::int as running,
                       count(*) filter (where state = 'success')::int as success, count(*) filter (where state = 'failed')::int as failed,
                       count(*) filter (where state = 'cancelled')::int as cancelled
                from runs.dag_runs where backfill_id = b.id) c on true
            order by b.id desc
            """);
        cmd.Parameters.Add(new NpgsqlParameter<long?>("id", id));
        cmd.Parameters.Add(new NpgsqlParameter<string?>("dag", dagName));
        cmd.Parameters.Add(new NpgsqlParameter<long?>("before", beforeId));
        cmd.Parameters.AddWithValue("limit", limit);
        var list = new List<BackfillInfo>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            list.Add(new BackfillInfo(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4), reader.GetInt32(5), reader.GetString(6), reader.GetInt32(7), reader.GetInt32(8),
                reader.GetInt32(9), reader.GetInt32(10), reader.GetInt32(11), reader.GetInt32(12), reader.GetInt32(13),
                reader.IsDBNull(14) ? null : reader.GetString(14), reader.GetFieldValue<DateTimeOffset>(15),
                reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16)));
        return list;
    }
}
