using Mediator;

namespace Scheduler.Modules.Dags.Contracts;

/// <summary>
/// An unpaused DAG scheduled on assets, at its current version. <paramref name="Since"/> is when
/// the DAG was created: of an asset it has never consumed, only events from then on count.
/// </summary>
public sealed record AssetConsumer(long DagId, string DagName, int Version, DateTimeOffset Since, IReadOnlyList<string> Uris);

/// <summary>The unpaused DAGs whose <c>schedule_on_assets</c> is not empty (the asset scan's input).</summary>
public sealed record GetAssetConsumers : IQuery<IReadOnlyList<AssetConsumer>>;

/// <summary>A DAG's tie to an asset: a task's outlet (<paramref name="TaskId"/> set) or its schedule (<paramref name="TaskId"/> null).</summary>
public sealed record AssetReference(string Uri, string DagName, bool Paused, string? TaskId)
{
    public bool IsProducer => TaskId is not null;
}

/// <summary>Every DAG's outlets and asset schedules (current versions), or one DAG's when <paramref name="DagName"/> is given.</summary>
public sealed record GetAssetReferences(string? DagName = null) : IQuery<IReadOnlyList<AssetReference>>;
