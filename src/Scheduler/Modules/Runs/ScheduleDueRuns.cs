using System.Text.Json.Nodes;
using Mediator;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The due-run scan. Reads due schedules in batches, creates their runs (idempotent on
/// (dag, logical date)), then advances the schedules. A crash between the two steps makes
/// the next scan create the same runs again, which the unique key turns into no-ops: runs
/// are neither lost nor duplicated. 10,000 DAGs due in one minute cost ~10 batches of a few
/// statements each, not 10,000 round trips.
/// </summary>
internal static class ScheduleDueRuns
{
    public sealed record Command(int BatchSize = 1000) : ICommand<int>;

    public sealed class Handler(ISender sender, RunEngine engine, TimeProvider clock, ILogger<Handler> logger) : ICommandHandler<Command, int>
    {
        public async ValueTask<int> Handle(Command command, CancellationToken cancellationToken)
        {
            var created = 0;
            for (var batch = 0; batch < 100; batch++)
            {
                var now = clock.GetUtcNow();
                var due = await sender.Send(new GetDueSchedules(now, command.BatchSize), cancellationToken);
                if (due.Count == 0)
                    break;
                var runs = new List<NewRun>();
                var plans = await sender.Send(new GetDagPlanVersions(due.Select(s => (s.DagId, s.Version)).ToList()), cancellationToken);
                foreach (var schedule in due)
                {
                    if (!plans.TryGetValue((schedule.DagId, schedule.Version), out var plan))
                        continue;
                    var type = schedule.LogicalDates.Count > 1 ? "catchup" : "scheduled";
                    runs.AddRange(schedule.LogicalDates.Select(date => new NewRun(plan, date, type, new JsonObject(), "scheduler")));
                }
                var ids = await engine.CreateRunsAsync(runs, cancellationToken);
                created += ids.Count(id => id is not null);
                await sender.Send(new AdvanceSchedules(due), cancellationToken);
                if (due.Count < command.BatchSize)
                    break;
            }
            if (created > 0)
                logger.LogInformation("Scheduled {Count} run(s)", created);
            return created;
        }
    }
}
