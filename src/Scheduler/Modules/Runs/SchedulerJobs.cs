using Mediator;
using Quartz;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The Runs module's periodic work on the clustered Quartz scheduler: only the hourly
/// retention now. The scheduler loop itself is <see cref="SchedulerLoop"/>, which sleeps
/// until it has work instead of being fired on a period.
/// </summary>
internal static class SchedulerJobs
{
    /// <summary>Deletes runs past the retention period.</summary>
    [DisallowConcurrentExecution]
    public sealed class Retention(ISender sender) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
            await sender.Send(new PurgeOldRuns.Command(), cancellationToken);
    }

    public static void Add(IQuartzBuilder q) =>
        q.ScheduleJob<Retention>(t => t
            .WithIdentity("retention", "runs")
            .WithCronSchedule("0 17 * * * ?", c => c.WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
}
