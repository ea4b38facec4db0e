using Mediator;
using Scheduler.Modules.Workers.Contracts;

namespace Scheduler.Modules.Workers;

internal sealed class TaskTypeCatalog : IQueryHandler<GetTaskTypes, IReadOnlySet<string>>
{
    private static readonly IReadOnlySet<string> BuiltIn = new HashSet<string>(StringComparer.Ordinal) { "noop", "shell", "http", "sql" };

    public ValueTask<IReadOnlySet<string>> Handle(GetTaskTypes query, CancellationToken cancellationToken) =>
        ValueTask.FromResult(BuiltIn);
}
