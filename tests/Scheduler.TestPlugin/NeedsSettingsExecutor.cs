using Scheduler.Abstractions;

namespace Scheduler.TestPlugin;

/// <summary>
/// Not loadable: it has neither a parameterless constructor nor one taking IServiceProvider.
/// The tests check that it is skipped on its own and <see cref="EchoExecutor"/> still loads.
/// </summary>
public sealed class NeedsSettingsExecutor(string settings) : ITaskExecutor
{
    public string Type => "needs_settings";

    public Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken) =>
        Task.FromResult(TaskOutcome.Failed(settings));
}
