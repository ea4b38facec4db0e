using Mediator;

namespace Scheduler.Modules.Workers.Contracts;

/// <summary>Worker nodes (replicas running a worker pool) alive now: a heartbeat within three intervals, as the workers list says.</summary>
public sealed record CountAliveWorkers : IQuery<int>;
