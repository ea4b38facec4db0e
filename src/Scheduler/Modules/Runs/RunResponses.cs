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
    IReadOnlyList<AttemptDetails> Attempts);

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
