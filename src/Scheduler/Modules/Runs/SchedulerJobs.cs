using Mediator;
using Quartz;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>The Runs module's periodic jobs; each is a few lines that send a command.</summary>
internal static class SchedulerJobs
{
    /// <summary>Creates due runs. Fires at every second boundary, on one replica at a time.</summary>
    [DisallowConcurrentExecution]
    public sealed class DueRunScan(ISender sender) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
            await sender.Send(new ScheduleDueRuns.Command(), cancellationToken);
    }

    /// <summary>Requeues tasks whose lease expired and retries whose delay has passed.</summary>
    [DisallowConcurrentExecution]
    public sealed class QueueMaintenance(ISender sender) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
            await sender.Send(new RunQueueMaintenance(), cancellationToken);
    }

    /// <summary>Deletes runs past the retention period.</summary>
    [DisallowConcurrentExecution]
    public sealed class Retention(ISender sender) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
            await sender.Send(new PurgeOldRuns.Command(), cancellationToken);
    }

    public static void Add(IQuartzBuilder q)
    {
        q.ScheduleJob<DueRunScan>(t => t
            .WithIdentity("due-run-scan", "runs")
            .WithCronSchedule("* * * * * ?", c => c.WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
        q.ScheduleJob<QueueMaintenance>(t => t
            .WithIdentity("queue-maintenance", "runs")
            .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(1)).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
        q.ScheduleJob<Retention>(t => t
            .WithIdentity("retention", "runs")
            .WithCronSchedule("0 17 * * * ?", c => c.WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
    }
}
