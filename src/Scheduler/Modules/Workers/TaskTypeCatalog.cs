using Mediator;
using Scheduler.Modules.Workers.Contracts;
using Scheduler.Modules.Workers.Executors;

namespace Scheduler.Modules.Workers;

/// <summary>The task types this server can run: built-ins and loaded plugins.</summary>
internal sealed class TaskTypeCatalog(ExecutorRegistry registry) : IQueryHandler<GetTaskTypes, IReadOnlySet<string>>
{
    public ValueTask<IReadOnlySet<string>> Handle(GetTaskTypes query, CancellationToken cancellationToken) =>
        ValueTask.FromResult(registry.Types);
}
