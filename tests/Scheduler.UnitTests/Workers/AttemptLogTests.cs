using Scheduler.Modules.Workers.Pool;

namespace Scheduler.UnitTests.Workers;

public sealed class AttemptLogTests
{
    /// <summary>Appends like the database would, failing the first <paramref name="failures"/> times.</summary>
    private sealed class FlakySink(int failures)
    {
        private int _calls;
        public List<string> Stored { get; } = [];

        public Task AppendAsync(string text, CancellationToken ct)
        {
            if (Interlocked.Increment(ref _calls) <= failures)
                throw new InvalidOperationException("the database is away");
            lock (Stored)
                Stored.Add(text);
            return Task.CompletedTask;
        }

        public string All()
        {
            lock (Stored)
                return string.Concat(Stored);
        }
    }

    [Fact]
    public async Task FlushAsync_PutsTextBackInOrder_WhenTheSendFails()
    {
        var log = new AttemptLog(1_000);
        var sink = new FlakySink(failures: 1);
        log.Write("one\n");
        await Assert.ThrowsAsync<InvalidOperationException>(() => log.FlushAsync(sink.AppendAsync, CancellationToken.None));
        log.Write("two\n");
        await log.FlushAsync(sink.AppendAsync, CancellationToken.None);
        Assert.Equal(["one\ntwo\n"], sink.Stored);
        Assert.Equal("", log.Take(final: true));
    }

    [Fact]
    public async Task FlushPeriodicallyAsync_KeepsFlushing_AfterAFailedFlush()
    {
        var log = new AttemptLog(1_000);
        var sink = new FlakySink(failures: 1);
        using var stop = new CancellationTokenSource();
        var flushing = log.FlushPeriodicallyAsync(sink.AppendAsync, TimeSpan.FromMilliseconds(20), TimeProvider.System, stop.Token);
        log.Write("before the failure\n");
        Assert.True(await ExecutorTestKit.EventuallyAsync(() => sink.All() == "before the failure\n", TimeSpan.FromSeconds(5)));
        log.Write("after it\n");
        Assert.True(await ExecutorTestKit.EventuallyAsync(() => sink.All() == "before the failure\nafter it\n", TimeSpan.FromSeconds(5)));
        await stop.CancelAsync();
        await flushing;
    }

    [Fact]
    public void Write_CleansWhatPostgresRefuses_WhenOutputHasNulOrLoneSurrogates()
    {
        var log = new AttemptLog(1_000);
        log.Write("a\0b");
        log.Write("c\uD800d");
        Assert.Equal("a\u2400bc\uFFFDd", log.Take(final: true));
    }

    [Fact]
    public void Write_LeavesNoHalfPair_WhenTheCapSplitsASurrogatePair()
    {
        var log = new AttemptLog(2);
        log.Write("a\uD83D\uDE00");
        Assert.StartsWith("a\uFFFD", log.Take(final: true));
    }
}
