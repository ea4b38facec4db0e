using Scheduler.Abstractions;

namespace Scheduler.Modules.Workers.Executors;

// Stand-in until the executors land: noop only.
internal sealed class ExecutorRegistry
{
    private sealed class Noop : ITaskExecutor
    {
        public string Type => "noop";
        public Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken) => Task.FromResult(TaskOutcome.Success());
    }

    private readonly Dictionary<string, ITaskExecutor> _executors = new() { ["noop"] = new Noop() };
    public IReadOnlySet<string> Types => _executors.Keys.ToHashSet();
    public bool TryGet(string type, out ITaskExecutor executor) => _executors.TryGetValue(type, out executor!);
}

internal sealed class NoConnections : IConnectionResolver
{
    public Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken) => Task.FromResult<ResolvedConnection?>(null);
}
