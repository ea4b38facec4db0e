using System.Text;
using System.Text.Json.Nodes;
using Scheduler.Abstractions;

namespace Scheduler.UnitTests.Workers;

/// <summary>A log that keeps everything, readable while the attempt still runs.</summary>
internal sealed class RecordingLog : ITaskLog
{
    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();

    public void Write(string text)
    {
        lock (_lock)
            _text.Append(text);
    }

    public string Text
    {
        get
        {
            lock (_lock)
                return _text.ToString();
        }
    }
}

internal sealed class NoConnections : IConnectionResolver
{
    public Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken) => Task.FromResult<ResolvedConnection?>(null);
}

internal static class ExecutorTestKit
{
    public static readonly DateTimeOffset LogicalDate = new(2026, 3, 1, 4, 5, 6, TimeSpan.FromHours(2));

    public static TaskExecutionContext Context(JsonObject task, ITaskLog log, int attempt = 1, TimeSpan? timeout = null) => new()
    {
        RunId = 42,
        DagName = "unit_dag",
        TaskId = "t1",
        Attempt = attempt,
        LogicalDate = LogicalDate,
        IdempotencyKey = $"42:t1:{attempt}",
        Task = task,
        Params = new JsonObject { ["p"] = 1 },
        Log = log,
        Connections = new NoConnections(),
        Timeout = timeout,
    };

    /// <summary>Polls until the condition holds or the time is up; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await Task.Delay(25);
        }
        return true;
    }
}
