using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Scheduler.Infrastructure.Telemetry;

namespace Scheduler.Modules.Runs;

internal sealed record RunSummary(
    long RunId,
    string DagName,
    int DagVersion,
    DateTimeOffset LogicalDate,
    string RunType,
    string State,
    DateTimeOffset QueuedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? StartedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? FinishedAt,
    string? CreatedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? TraceId);

internal sealed record RunDetails(
    long RunId,
    string DagName,
    int DagVersion,
    DateTimeOffset LogicalDate,
    string RunType,
    string State,
    JsonNode? Conf,
    JsonNode? Params,
    DateTimeOffset QueuedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? StartedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? FinishedAt,
    string? CreatedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? TraceId,
    IReadOnlyList<TaskInstanceDetails> Tasks,
    string? Reason = null);

internal sealed record TaskInstanceDetails(
    string TaskId,
    string State,
    int Attempt,
    int MaxAttempts,
    string Pool,
    int Priority,
    DateTimeOffset? QueuedAt,
    DateTimeOffset? NotBefore,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? WorkerId,
    IReadOnlyList<AttemptDetails> Attempts,
    int? MapIndex = null,
    MappedSummary? Mapped = null);

/// <summary>
/// On a mapped task's own row (docs/authoring.md "Mapping"): how many instances it expanded
/// into and how many are in each state. The instances follow as rows with <c>map_index</c>.
/// </summary>
internal sealed record MappedSummary(int Count, IReadOnlyDictionary<string, int> States)
{
    public static MappedSummary Of(IEnumerable<string> instanceStates)
    {
        var states = instanceStates.GroupBy(s => s, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new MappedSummary(states.Values.Sum(), states);
    }
}

internal sealed record AttemptDetails(
    int Attempt,
    string State,
    string? WorkerId,
    int Deliveries,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int? Code,
    string? Error);

internal static class RunMapping
{
    public static RunSummary ToSummary(this DagRun r) =>
        new(r.Id, r.DagName, r.DagVersion, r.LogicalDate, r.RunType, r.State, r.QueuedAt, r.StartedAt, r.FinishedAt, r.CreatedBy, RunTracing.TraceId(r.Traceparent));
}
