using Scheduler.Abstractions;

namespace Scheduler.TestPlugin;

/// <summary>
/// Task type <c>throw_on_cancel</c>: waits until its token fires, then throws an exception
/// of its own instead of <see cref="OperationCanceledException"/>, as careless plugins do.
/// </summary>
public sealed class ThrowOnCancelExecutor : ITaskExecutor
{
    public string Type => "throw_on_cancel";

    public async Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken)
    {
        context.Log.WriteLine("waiting to be stopped");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException("the plugin was interrupted");
        }
        return TaskOutcome.Success();
    }
}
