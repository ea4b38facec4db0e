using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Npgsql;

namespace Scheduler.Modules.Runs.Assets;

/// <summary>One asset event: its source is the producing task's run, or null for a posted event.</summary>
internal sealed record AssetEventInfo(
    long Id,
    string Uri,
    JsonObject Extra,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? SourceDag,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? SourceRunId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? SourceTaskId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? CreatedBy,
    DateTimeOffset CreatedAt)
{
    public const string Columns = "id, uri, extra::text, source_dag, source_run_id, source_task_id, created_by, created_at";

    /// <summary>Reads a row selected with <see cref="Columns"/>, starting at <paramref name="at"/>.</summary>
    public static AssetEventInfo Read(NpgsqlDataReader r, int at = 0) => new(
        r.GetInt64(at), r.GetString(at + 1), JsonNode.Parse(r.GetString(at + 2))?.AsObject() ?? [],
        r.IsDBNull(at + 3) ? null : r.GetString(at + 3), r.IsDBNull(at + 4) ? null : r.GetInt64(at + 4),
        r.IsDBNull(at + 5) ? null : r.GetString(at + 5), r.IsDBNull(at + 6) ? null : r.GetString(at + 6),
        r.GetFieldValue<DateTimeOffset>(at + 7));
}

/// <summary>A task that updates the asset (one of its outlets).</summary>
internal sealed record AssetProducer(string Dag, string Task);

/// <summary>A DAG scheduled on the asset.</summary>
internal sealed record AssetConsumerInfo(string Dag, bool Paused);

/// <summary>An asset: the URI, who feeds and who waits for it, and its events so far.</summary>
internal sealed record AssetInfo(
    string Uri,
    IReadOnlyList<AssetProducer> Producers,
    IReadOnlyList<AssetConsumerInfo> Consumers,
    long EventCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] AssetEventInfo? LastEvent);
