using Mediator;

namespace Scheduler.Modules.Workers.Contracts;

/// <summary>The task types this server can execute: the built-ins and every loaded plugin.</summary>
public sealed record GetTaskTypes : IQuery<IReadOnlySet<string>>;
