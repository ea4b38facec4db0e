using Mediator;

namespace Scheduler.Modules.Runs.Contracts;

/// <summary>The state of each named DAG's latest run (by logical date); DAGs without runs are absent.</summary>
public sealed record GetLastRunStates(IReadOnlyCollection<string> DagNames) : IQuery<IReadOnlyDictionary<string, string>>;
