using System.Threading.Channels;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// Group commit for manual triggers. Every run start of a DAG is serialised by the DAG's
/// run-start lock (that is what keeps max_active_runs exact across replicas), so fifty clients
/// triggering one DAG would queue on that lock one transaction each. Instead, the triggers
/// that arrive while a creation is in flight are created together by the next one: a lone
/// trigger is created at once (no added latency), a burst costs one transaction per batch.
///
/// A trigger without an explicit logical date never conflicts: when its instant is taken (by
/// an earlier run or by another trigger of the same batch) it moves on by a microsecond. A
/// trigger with an explicit date that is taken gets null, which the endpoint answers with 409.
/// </summary>
internal sealed class TriggerBatcher(IServiceScopeFactory scopes, ILogger<TriggerBatcher> logger)
{
    /// <summary>Transactions in flight at once: one writes while the next batch gathers.</summary>
    private const int Writers = 2;
    private const int MaxBatch = 500;
    private static readonly TimeSpan Microsecond = TimeSpan.FromTicks(10);

    /// <summary>Instants a trigger without a date tries before it is refused (a run of a DAG deleted meanwhile is refused too).</summary>
    private const int MaxMoves = 20;

    private sealed record Pending(NewRun Run, bool DateChosen, TaskCompletionSource<long?> Created, int Moves = 0);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Lock _startLock = new();
    private bool _started;

    /// <summary>
    /// Creates the run and returns its id, or null when <paramref name="dateChosen"/> and a run
    /// of that DAG and logical date exists already.
    /// </summary>
    public Task<long?> CreateAsync(NewRun run, bool dateChosen)
    {
        EnsureStarted();
        var pending = new Pending(run with { LogicalDate = RunCreator.ToMicroseconds(run.LogicalDate) }, dateChosen,
            new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously));
        _queue.Writer.TryWrite(pending);
        return pending.Created.Task;
    }

    private void EnsureStarted()
    {
        lock (_startLock)
        {
            if (_started)
                return;
            _started = true;
            // Started by the first trigger request, but belongs to none: without this the
            // request's context (its trace, its log scope) would flow into the loops for good.
            using (ExecutionContext.SuppressFlow())
                for (var i = 0; i < Writers; i++)
                    _ = Task.Run(WriteLoopAsync);
        }
    }

    private async Task WriteLoopAsync()
    {
        while (await _queue.Reader.WaitToReadAsync())
        {
            var batch = new List<Pending>();
            var keys = new HashSet<(long, long)>();
            var deferred = new List<Pending>();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                // One (DAG, logical date) per batch: a free instant is found for a trigger without
                // a date; an explicit duplicate waits for the next batch, where it meets the run
                // this batch created and is refused.
                while (!keys.Add((next.Run.Plan.DagId, next.Run.LogicalDate.UtcTicks)))
                {
                    if (next.DateChosen)
                    {
                        deferred.Add(next);
                        next = null;
                        break;
                    }
                    next = next with { Run = next.Run with { LogicalDate = next.Run.LogicalDate + Microsecond } };
                }
                if (next is not null)
                    batch.Add(next);
            }
            foreach (var later in deferred)
                _queue.Writer.TryWrite(later);
            if (batch.Count > 0)
                await WriteAsync(batch);
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        long?[] ids;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            ids = await scope.ServiceProvider.GetRequiredService<RunCreator>().CreateRunsAsync(batch.Select(p => p.Run).ToList(), CancellationToken.None);
        }
        catch (Exception e) when (batch.Count > 1)
        {
            // One trigger's problem must not fail the others: each on its own, so each caller
            // gets its own answer.
            logger.LogWarning(e, "Creating {Count} triggered runs together failed; creating them one by one", batch.Count);
            foreach (var one in batch)
                await WriteAsync([one]);
            return;
        }
        catch (Exception e)
        {
            batch[0].Created.TrySetException(e);
            return;
        }
        for (var i = 0; i < batch.Count; i++)
        {
            var pending = batch[i];
            if (ids[i] is not null || pending.DateChosen || pending.Moves >= MaxMoves)
                pending.Created.TrySetResult(ids[i]);
            else
                _queue.Writer.TryWrite(pending with { Run = pending.Run with { LogicalDate = pending.Run.LogicalDate + Microsecond }, Moves = pending.Moves + 1 });
        }
    }
}
