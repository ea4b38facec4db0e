using Scheduler.Abstractions;

namespace Scheduler.Modules.Workers.Executors;

internal sealed class NoopExecutor : ITaskExecutor
{
    public string Type => "noop";

    public Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken) =>
        Task.FromResult(TaskOutcome.Success());
}
