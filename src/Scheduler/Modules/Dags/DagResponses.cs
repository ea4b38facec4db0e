using System.Text.Json.Serialization;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.Modules.Dags;

/// <summary>A DAG with its current definition and schedule state.</summary>
internal sealed record DagDetails(
    string Name,
    string? Description,
    string? Owner,
    IReadOnlyList<string> Tags,
    bool Paused,
    int Version,
    string Hash,
    string? Cron,
    string? Interval,
    string Timezone,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? NextRunAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LastRunState,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DagDefinition Definition)
{
    /// <summary>The owning team, or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Team { get; init; }

    /// <summary>Where the DAG comes from when a git repository owns it; absent for REST DAGs.</summary>
    public DagSource? Source { get; init; }
}

/// <summary>
/// The git origin of a DAG or of one version: the commit and the file (relative to the
/// repository root). On a DAG also the repository; its path is null once the file was removed.
/// </summary>
internal sealed record DagSource(string? Repository, string? Commit, string? Path);

/// <summary>A DAG as listed: no definition, so a page of 500 stays small.</summary>
internal sealed record DagSummary(
    string Name,
    string? Description,
    string? Owner,
    IReadOnlyList<string> Tags,
    bool Paused,
    int Version,
    string? Cron,
    string? Interval,
    string Timezone,
    int TaskCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? NextRunAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? LastRunState,
    DateTimeOffset UpdatedAt)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Team { get; init; }
}

internal static class DagMapping
{
    public static DagDetails ToDetails(this Dag dag) => new(
        dag.Name, dag.Description, dag.Owner, dag.Tags, dag.Paused, dag.Version, dag.Hash,
        dag.Cron, IntervalText(dag.IntervalSeconds), dag.Timezone, dag.NextRunAt, null,
        dag.CreatedAt, dag.UpdatedAt, CanonicalJson.Deserialize(dag.Definition))
    {
        Source = dag.SourceRepository is null ? null : new DagSource(dag.SourceRepository, dag.SourceCommit, dag.SourcePath),
        Team = dag.Team,
    };

    public static string? IntervalText(long? seconds) =>
        seconds is { } s ? System.Xml.XmlConvert.ToString(TimeSpan.FromSeconds(s)) : null;

    /// <summary>Copies a prepared definition onto the catalogue row (not the paused state).</summary>
    public static void Apply(this Dag dag, PreparedDefinition prepared, DateTimeOffset now, IReadOnlyDictionary<string, Scheduling.ExclusionCalendar> calendars)
    {
        var d = prepared.Definition;
        dag.Description = d.Description;
        dag.Owner = d.Owner;
        dag.Team = d.Team;
        dag.Tags = d.Tags?.Distinct().ToArray() ?? [];
        dag.Hash = prepared.Hash;
        dag.Definition = prepared.Canonical;
        dag.Cron = d.Cron;
        dag.IntervalSeconds = d.Interval is { } i ? (long)i.TotalSeconds : null;
        dag.Timezone = d.Timezone ?? "UTC";
        dag.TaskCount = d.Tasks!.Count;
        dag.NextRunAt = prepared.NextRunAfter(now, calendars);
        dag.UpdatedAt = now;
        dag.ScheduleOnAssets = d.ScheduleOnAssets?.ToArray() ?? [];
        dag.Outlets = new System.Text.Json.Nodes.JsonArray(d.Tasks!
            .SelectMany(t => (t.Outlets ?? []).Select(uri => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject { ["task"] = t.Id, ["uri"] = uri }))
            .ToArray()).ToJsonString();
    }
}
