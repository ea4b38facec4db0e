using Scheduler.Abstractions;

namespace Scheduler.TestPlugin;

/// <summary>Task type <c>echo</c>: writes its <c>message</c> field to the log; fails when told to.</summary>
public sealed class EchoExecutor : ITaskExecutor
{
    public string Type => "echo";

    public Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken)
    {
        var message = context.Task["message"]?.GetValue<string>() ?? "(no message)";
        context.Log.WriteLine($"echo: {message} ({context.IdempotencyKey})");
        return Task.FromResult(message == "fail" ? TaskOutcome.Failed("asked to fail") : TaskOutcome.Success());
    }
}
