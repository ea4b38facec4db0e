using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Scheduler.Infrastructure.Database;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Workers;

/// <summary>The LISTEN helper the worker (and later the scheduler loop and dispatcher) build on, against the real server.</summary>
public sealed class PostgresListenerTests
{
    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition() && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        return condition();
    }

    [Fact]
    public async Task RunAsync_Reconnects_AndCallsOnConnectedAgain_WhenItsConnectionIsKilled()
    {
        var channel = $"test_listener_{Guid.NewGuid():N}";
        await using var dataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionString);
        var received = new ConcurrentQueue<string>();
        var backends = new ConcurrentQueue<int>();
        var listener = new PostgresListener(dataSource.OpenConnectionAsync, [channel], e => received.Enqueue(e.Payload),
            (connection, _) => { backends.Enqueue(connection.ProcessID); return Task.CompletedTask; },
            NullLogger.Instance, TimeSpan.FromMilliseconds(100));
        using var stop = new CancellationTokenSource();
        var running = listener.RunAsync(stop.Token);

        Assert.True(await EventuallyAsync(() => backends.Count == 1));
        await NotifyAsync(dataSource, channel, "one");
        Assert.True(await EventuallyAsync(() => received.Contains("one")));

        await using (var kill = dataSource.CreateCommand("select pg_terminate_backend(@pid)"))
        {
            kill.Parameters.AddWithValue("pid", backends.Single());
            await kill.ExecuteNonQueryAsync();
        }
        Assert.True(await EventuallyAsync(() => backends.Count == 2));
        await NotifyAsync(dataSource, channel, "two");
        Assert.True(await EventuallyAsync(() => received.Contains("two")));

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Constructor_RefusesChannelNamesThatNeedQuoting()
    {
        Assert.Throws<ArgumentException>(() => new PostgresListener(_ => throw new InvalidOperationException(), ["Bad; drop"], _ => { }, null, NullLogger.Instance));
    }

    private static async Task NotifyAsync(NpgsqlDataSource dataSource, string channel, string payload)
    {
        await using var notify = dataSource.CreateCommand("select pg_notify(@channel, @payload)");
        notify.Parameters.AddWithValue("channel", channel);
        notify.Parameters.AddWithValue("payload", payload);
        await notify.ExecuteNonQueryAsync();
    }
}
