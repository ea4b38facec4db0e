using System.Text.Json.Nodes;
using Mediator;
using Scheduler.Infrastructure.Telemetry;
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
    public sealed record Command(int BatchSize = 1000, int Concurrency = 2) : ICommand<int>;

    public sealed class Handler(ISender sender, IServiceScopeFactory scopes, TimeProvider clock, SchedulerMetrics metrics, ILogger<Handler> logger) : ICommandHandler<Command, int>
    {
        public async ValueTask<int> Handle(Command command, CancellationToken cancellationToken)
        {
            // Batches are read one after another (each continues after the last DAG of the
            // previous one) and created side by side: while one batch's runs are written, the
            // next is read and prepared. Every batch is finished before the scan returns.
            var created = 0;
            var inFlight = new List<Task<int>>();
            (DateTimeOffset, long)? after = null;
            var now = clock.GetUtcNow();
            for (var batch = 0; batch < 100; batch++)
            {
                var due = await sender.Send(new GetDueSchedules(now, command.BatchSize, after), cancellationToken);
                if (due.Count == 0)
                    break;
                after = (due[^1].DueAt, due[^1].DagId);
                if (inFlight.Count >= command.Concurrency)
                {
                    var done = await Task.WhenAny(inFlight);
                    inFlight.Remove(done);
                    created += await done;
                }
                inFlight.Add(CreateAndAdvanceAsync(due, cancellationToken));
                if (due.Count < command.BatchSize)
                    break;
            }
            foreach (var count in await Task.WhenAll(inFlight))
                created += count;
            if (created > 0)
                logger.LogInformation("Scheduled {Count} run(s)", created);
            return created;
        }

        /// <summary>Creates one batch's runs, then advances its schedules (in a scope of its own: batches overlap).</summary>
        private async Task<int> CreateAndAdvanceAsync(IReadOnlyList<DueSchedule> due, CancellationToken cancellationToken)
        {
            await using var scope = scopes.CreateAsyncScope();
            var batchSender = scope.ServiceProvider.GetRequiredService<ISender>();
            var creator = scope.ServiceProvider.GetRequiredService<RunCreator>();
            var runs = new List<NewRun>();
            var newest = new List<(int Index, DateTimeOffset DueAt)>();
            var plans = await batchSender.Send(new GetDagPlanVersions(due.Select(s => (s.DagId, s.Version)).ToList()), cancellationToken);
            foreach (var schedule in due)
            {
                if (!plans.TryGetValue((schedule.DagId, schedule.Version), out var plan) || schedule.LogicalDates.Count == 0)
                    continue;
                var type = schedule.LogicalDates.Count > 1 ? "catchup" : "scheduled";
                runs.AddRange(schedule.LogicalDates.Select(date => new NewRun(plan, date, type, new JsonObject(), "scheduler")));
                newest.Add((runs.Count - 1, schedule.LogicalDates[^1]));
            }
            var ids = await creator.CreateRunsAsync(runs, cancellationToken);
            RecordLag(ids, newest);
            await batchSender.Send(new AdvanceSchedules(due), cancellationToken);
            return ids.Count(id => id is not null);
        }

        /// <summary>
        /// Schedule lag, once per schedule whose newest run this scan created: its fire time to
        /// now. Older dates of a catch-up measure the outage that missed them (the leader alert
        /// covers that), not how late the loop is, so they are left out.
        /// </summary>
        private void RecordLag(long?[] ids, List<(int Index, DateTimeOffset DueAt)> newest)
        {
            var now = clock.GetUtcNow();
            foreach (var (index, dueAt) in newest)
                if (ids[index] is not null)
                    metrics.ScheduleLag(now - dueAt);
        }
    }
}
