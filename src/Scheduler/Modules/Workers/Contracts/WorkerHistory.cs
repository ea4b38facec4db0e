using Mediator;

namespace Scheduler.Modules.Workers.Contracts;

/// <summary>
/// Retention of the worker registry: rows of worker nodes silent for longer than
/// <c>Workers:NodeRetentionHours</c> (24; 0 keeps them), which a replica killed without a
/// clean stop leaves behind. Sent by the hourly retention job; returns the rows deleted.
/// </summary>
public sealed record PurgeDeadWorkers : ICommand<int>;
