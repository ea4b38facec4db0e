using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Scheduler.Abstractions;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Workers.Executors;
using Scheduler.Modules.Workers.Pool;

namespace Scheduler.IntegrationTests.Workers;

/// <summary>The sql executor's default command timeout, on the real PostgreSQL.</summary>
public sealed class SqlCommandTimeoutTests
{
    private sealed class TestConnection : IConnectionResolver
    {
        public Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken) =>
            Task.FromResult<ResolvedConnection?>(new ResolvedConnection(name, "postgres", TestDatabase.ConnectionString));
    }

    private sealed class NoLog : ITaskLog
    {
        public void Write(string text)
        {
        }
    }

    private static TaskExecutionContext Context(TimeSpan? timeout) => new()
    {
        RunId = 1,
        DagName = "d",
        TaskId = "slow",
        Attempt = 1,
        LogicalDate = DateTimeOffset.UnixEpoch,
        IdempotencyKey = "1:slow:1",
        Task = new JsonObject { ["connection"] = "db", ["statement"] = "select pg_sleep(3)" },
        Params = [],
        Log = new NoLog(),
        Connections = new TestConnection(),
        Timeout = timeout,
    };

    private static SqlExecutor Executor() => new(Options.Create(new WorkerOptions { SqlCommandTimeoutSeconds = 1 }));

    [Fact]
    public async Task Execute_FailsOnTheCommandTimeout_WhenTheTaskSetsNoTimeout()
    {
        var outcome = await Executor().ExecuteAsync(Context(timeout: null), CancellationToken.None);
        Assert.Equal(TaskOutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("the statement did not finish within 1 s", outcome.Error);
    }

    [Fact]
    public async Task Execute_RunsPastTheCommandTimeout_WhenTheTaskSetsItsOwn()
    {
        var outcome = await Executor().ExecuteAsync(Context(timeout: TimeSpan.FromMinutes(1)), CancellationToken.None);
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
    }
}
