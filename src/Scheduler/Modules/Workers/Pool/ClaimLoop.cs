using Mediator;
using Microsoft.Extensions.Options;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// This replica's ONE claim loop: it takes as many queued tasks as there are free slots in
/// one statement (no poller per slot, which collapses under contention), woken by the queue
/// listener and the attempts' ends, polling as a fallback.
/// </summary>
internal sealed class ClaimLoop(
    IServiceScopeFactory scopes,
    WorkerIdentity worker,
    RunningAttempts attempts,
    ClaimSignal signal,
    AttemptRunner runner,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<ClaimLoop> logger)
{
    private readonly WorkerOptions _options = options.Value;
    private DateTimeOffset _lastClaim = DateTimeOffset.MinValue;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var lastPoll = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested && !signal.Stopped)
        {
            // Backpressure: while RecordingBacklog outcomes wait for the database, claim nothing
            // more (a slow or unreachable database must not pile up work here). Below it, claims
            // overlap the recordings: short tasks keep the slots busy while outcomes are written.
            var free = attempts.RecordingCount >= _options.RecordingBacklog ? 0 : attempts.Reserve(_options.Slots, _options.Slots);
            var polling = time.GetUtcNow() - lastPoll >= PollInterval();
            if (free > 0)
            {
                if (polling)
                    lastPoll = time.GetUtcNow();
                // The constrained path is slower and serialised: taken when a NOTIFY said such
                // tasks were queued, after a full batch, and on every fallback poll (a slot freed
                // in a limited pool is announced by no NOTIFY).
                var includeConstrained = signal.TakeConstrainedHint() || polling;
                var claimed = await ClaimAndStartAsync(free, includeConstrained, stoppingToken);
                if (claimed is null)
                {
                    await signal.WaitAsync(_options.Poll, stoppingToken);
                    continue;
                }
                if (claimed > 0)
                    _lastClaim = time.GetUtcNow();
                signal.Backlog = claimed == free;
                // A full batch means more may be waiting: claim again as soon as a slot frees.
                if (claimed == free)
                {
                    if (includeConstrained)
                        signal.HintConstrained();
                    if (attempts.RunningCount < _options.Slots)
                        continue;
                }
            }
            await signal.WaitAsync(PollInterval(), stoppingToken);
        }
    }

    /// <summary>
    /// Claims for the <paramref name="reserved"/> slots and starts what it got; null when the
    /// claim failed. The reservation is given back either way, after the attempts were added.
    /// </summary>
    private async Task<int?> ClaimAndStartAsync(int reserved, bool includeConstrained, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var claimed = await scope.ServiceProvider.GetRequiredService<ISender>()
                .Send(new ClaimTasks(worker.Id, reserved, _options.Lease, includeConstrained), ct);
            foreach (var task in claimed)
                runner.Start(task);
            return claimed.Count;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Claiming tasks failed; retrying after the poll interval");
            return null;
        }
        finally
        {
            attempts.Release(reserved);
        }
    }

    /// <summary>The short fallback poll while this worker is busy or was lately; the idle one otherwise.</summary>
    private TimeSpan PollInterval() =>
        !attempts.IsIdle || time.GetUtcNow() - _lastClaim < _options.IdlePoll ? _options.Poll : _options.IdlePoll;
}
