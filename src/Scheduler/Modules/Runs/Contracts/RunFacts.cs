using Mediator;

namespace Scheduler.Modules.Runs.Contracts;

/// <summary>What a notification says about a run; null when the run is gone.</summary>
public sealed record GetRunFacts(long RunId) : IQuery<RunFacts?>;

public sealed record RunFacts(
    long RunId,
    long DagId,
    string DagName,
    int DagVersion,
    string State,
    string RunType,
    DateTimeOffset LogicalDate,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<string> FailedTasks);

/// <summary>Each DAG's latest run (by logical date), by DAG name; for status digests.</summary>
public sealed record GetLatestRuns(int Limit) : IQuery<IReadOnlyList<LatestRun>>;

public sealed record LatestRun(string DagName, long RunId, string State, DateTimeOffset LogicalDate, DateTimeOffset? FinishedAt);
