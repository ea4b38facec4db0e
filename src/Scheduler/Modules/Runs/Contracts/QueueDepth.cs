using Mediator;

namespace Scheduler.Modules.Runs.Contracts;

/// <summary>
/// Task instances queued, running, up_for_retry and waiting (parked waits, holding no slot), by pool, across every replica: the queue
/// depth the metrics export (and autoscaling reads). Every pool in <c>runs.pools</c> is listed
/// with zeros, so the series never vanish when a queue empties. One statement over the
/// queue's, leases' and retries' partial indexes.
/// </summary>
public sealed record GetQueueDepth : IQuery<IReadOnlyList<QueueDepth>>;

public sealed record QueueDepth(string State, string Pool, int Count);
