using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Infrastructure.Telemetry;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// This replica's worker, composed of small loops: the <see cref="ClaimLoop"/> (one per
/// replica, claims for all free slots), the <see cref="QueueListener"/> (wakes it, stops
/// cancelled runs), the <see cref="LeaseHeartbeat"/>, and per attempt the
/// <see cref="AttemptRunner"/>, whose outcomes the <see cref="OutcomeRecorder"/> batches.
/// The pool starts them and shuts down gracefully. A replica killed outright loses
/// nothing: its leases expire and the tasks are requeued elsewhere.
/// </summary>
internal sealed class WorkerPool(
    IServiceScopeFactory scopes,
    NpgsqlDataSource dataSource,
    WorkerIdentity worker,
    RunningAttempts attempts,
    ClaimSignal signal,
    ClaimLoop claims,
    QueueListener listener,
    LeaseHeartbeat heartbeat,
    IOptions<WorkerOptions> options,
    SchedulerMetrics metrics,
    TimeProvider time,
    ILogger<WorkerPool> logger) : BackgroundService
{
    private static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(5);
    private readonly WorkerOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
            return;
        await Registry.RegisterAsync(dataSource, worker.Id, _options.Slots, stoppingToken);
        metrics.ObserveWorkerSlots(() => (attempts.RunningCount, _options.Slots));
        logger.LogInformation("Worker {Worker} started with {Slots} slots", worker.Id, _options.Slots);
        var listening = listener.RunAsync(stoppingToken);
        var beating = heartbeat.RunAsync(stoppingToken);
        try
        {
            await claims.RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(listening, beating).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>
    /// Graceful shutdown: stop claiming, let running attempts finish within the shutdown
    /// timeout, then interrupt the rest and hand them back to the queue under the same
    /// attempt number (no retry is spent on a restart).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        signal.Stop();
        if (_options.Enabled && attempts.RunningCount > 0)
            await HandBackAsync(cancellationToken);
        // Outcomes still being recorded get a moment; any left behind are re-run after their lease.
        for (var waited = 0; attempts.IsRecording && waited < 100; waited++)
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, CancellationToken.None);
        await base.StopAsync(cancellationToken);
        if (_options.Enabled)
        {
            try
            {
                await Registry.RemoveAsync(dataSource, worker.Id, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogDebug(e, "Could not remove the worker row");
            }
        }
    }

    private async Task HandBackAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Waiting up to {Timeout} for {Count} running task(s)", _options.ShutdownTimeout, attempts.RunningCount);
        var all = Task.WhenAll(attempts.Running.Select(r => r.Execution));
        await Task.WhenAny(all, Task.Delay(_options.ShutdownTimeout, time, cancellationToken));
        var left = attempts.Running;
        foreach (var attempt in left)
            attempt.Stop(StopReason.Shutdown);
        if (left.Count == 0)
            return;
        await Task.WhenAny(Task.WhenAll(left.Select(r => r.Execution)), Task.Delay(InterruptGrace, time, CancellationToken.None));
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var released = await scope.ServiceProvider.GetRequiredService<ISender>()
                .Send(new ReleaseTasks(worker.Id, left.Select(a => a.Task.TaskInstanceId).ToList()), CancellationToken.None);
            logger.LogInformation("Handed {Count} interrupted task(s) back to the queue", released);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not hand tasks back; their leases will expire and they will be requeued");
        }
    }
}
