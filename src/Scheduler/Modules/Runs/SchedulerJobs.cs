using Mediator;
using Quartz;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>The Runs module's periodic work, run by the clustered Quartz scheduler.</summary>
internal static class SchedulerJobs
{
    public static readonly TimeSpan LoopPeriod = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The scheduler loop: one execution owns scheduling for <see cref="LoopPeriod"/>, on one
    /// replica at a time (clustered, non-concurrent), and within it scans for due runs at
    /// every second boundary and requeues expired leases and due retries every few seconds.
    /// One Quartz firing per period instead of several per second keeps the idle cost of the
    /// cluster low (a firing costs the store ~10 statements); the next firing may land on
    /// any replica, so a dead owner is replaced within the check-in threshold plus a period.
    /// </summary>
    [DisallowConcurrentExecution]
    public sealed class SchedulerLoop(IServiceScopeFactory scopes, TimeProvider clock, IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<SchedulerLoop> logger) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken jobToken)
        {
            // Stop as soon as the application stops: the loop must not hold up the worker's
            // graceful hand-back; another replica's next firing takes over.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(jobToken, lifetime.ApplicationStopping);
            var cancellationToken = linked.Token;
            var stopAt = (context.NextFireTimeUtc ?? clock.GetUtcNow() + LoopPeriod) - TimeSpan.FromMilliseconds(150);
            var maintenanceEvery = TimeSpan.FromSeconds(configuration.GetValue("Scheduler:MaintenanceSeconds", 2.0));
            var nextMaintenance = DateTimeOffset.MinValue;
            while (!cancellationToken.IsCancellationRequested)
            {
                var now = clock.GetUtcNow();
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var sender = scope.ServiceProvider.GetRequiredService<ISender>();
                    await sender.Send(new ScheduleDueRuns.Command(), cancellationToken);
                    if (now >= nextMaintenance)
                    {
                        await sender.Send(new RunQueueMaintenance(), cancellationToken);
                        nextMaintenance = now + maintenanceEvery;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Scheduler loop iteration failed; retrying at the next second");
                }
                // Wake just after the next second boundary, so a per-second schedule's due
                // second is always inside the scanned window.
                now = clock.GetUtcNow();
                var wake = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1).AddMilliseconds(5);
                if (wake >= stopAt)
                    return;
                try
                {
                    await Task.Delay(wake - now, clock, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Deletes runs past the retention period.</summary>
    [DisallowConcurrentExecution]
    public sealed class Retention(ISender sender) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
            await sender.Send(new PurgeOldRuns.Command(), cancellationToken);
    }

    private static DateTimeOffset HalfPastNextSecond()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1.5);
    }

    public static void Add(IQuartzBuilder q)
    {
        // Firings at half past a second: a hand-over between executions then never straddles
        // a second boundary, so every due second is scanned by a running loop ~5 ms after it.
        q.ScheduleJob<SchedulerLoop>(t => t
            .WithIdentity("scheduler-loop", "runs")
            .StartAt(HalfPastNextSecond())
            .WithSimpleSchedule(s => s.WithInterval(LoopPeriod).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow)));
        q.ScheduleJob<Retention>(t => t
            .WithIdentity("retention", "runs")
            .WithCronSchedule("0 17 * * * ?", c => c.WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
    }
}
