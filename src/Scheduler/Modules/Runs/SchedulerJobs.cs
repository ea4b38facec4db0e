using Mediator;
using Quartz;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Workers.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The periodic work on the clustered Quartz scheduler: only the hourly retention now, of
/// runs and of the other modules' history (through their contracts). The scheduler loop
/// itself is <see cref="SchedulerLoop"/>, which sleeps until it has work instead of being
/// fired on a period.
/// </summary>
internal static class SchedulerJobs
{
    /// <summary>Deletes runs, notification history, dead worker rows and audit entries past their retention periods.</summary>
    [DisallowConcurrentExecution]
    public sealed class Retention(ISender sender) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            await sender.Send(new PurgeOldRuns.Command(), cancellationToken);
            await sender.Send(new PurgeNotificationHistory(), cancellationToken);
            await sender.Send(new PurgeDeadWorkers(), cancellationToken);
            await sender.Send(new PurgeAuditHistory(), cancellationToken);
        }
    }

    public static void Add(IQuartzBuilder q) =>
        q.ScheduleJob<Retention>(t => t
            .WithIdentity("retention", "runs")
            .WithCronSchedule("0 17 * * * ?", c => c.WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
}
