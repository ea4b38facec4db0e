using Scheduler.Infrastructure.Telemetry;
using System.Text.Json.Nodes;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Runs;

/// <summary>A run with every task instance (a mapped task's instances with their map_index) and each one's attempts (three indexed reads).</summary>
internal static class GetRun
{
    public sealed record Query(long RunId) : IQuery<RunDetails?>;

    public sealed class Handler(RunsDbContext db) : IQueryHandler<Query, RunDetails?>
    {
        public async ValueTask<RunDetails?> Handle(Query query, CancellationToken cancellationToken)
        {
            var run = await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.Id == query.RunId, cancellationToken);
            if (run is null)
                return null;
            // Own rows first, each mapped task's instances after it in map_index order.
            var rows = await db.TaskInstances.AsNoTracking().Where(t => t.RunId == run.Id).ToListAsync(cancellationToken);
            var own = rows.Where(t => t.MapIndex < 0).ToDictionary(t => t.TaskId, t => t.Id, StringComparer.Ordinal);
            var tasks = rows.OrderBy(t => own.GetValueOrDefault(t.TaskId, t.Id)).ThenBy(t => t.MapIndex).ToList();
            var instances = tasks.Where(t => t.MapIndex >= 0).ToLookup(t => t.TaskId, t => t.State, StringComparer.Ordinal);
            // By task instance id: the attempts' primary key (task_instance_id, attempt) serves
            // it, where a filter on run_id would scan every attempt ever recorded.
            var ids = tasks.Select(t => t.Id).ToList();
            var attempts = (await db.Attempts.AsNoTracking().Where(a => ids.Contains(a.TaskInstanceId))
                    .Select(a => new { a.TaskInstanceId, a.Attempt, a.State, a.WorkerId, a.Deliveries, a.StartedAt, a.FinishedAt, a.Code, a.Error })
                    .ToListAsync(cancellationToken))
                .ToLookup(a => a.TaskInstanceId);
            return new RunDetails(run.Id, run.DagName, run.DagVersion, run.LogicalDate, run.RunType, run.State,
                JsonNode.Parse(run.Conf), JsonNode.Parse(run.Params), run.QueuedAt, run.StartedAt, run.FinishedAt, run.CreatedBy, RunTracing.TraceId(run.Traceparent),
                tasks.Select(t => new TaskInstanceDetails(t.TaskId, t.State, t.Attempt, t.MaxAttempts, t.Pool, t.Priority, t.QueuedAt, t.NotBefore,
                    t.StartedAt, t.FinishedAt, t.WorkerId,
                    attempts[t.Id].OrderBy(a => a.Attempt).Select(a => new AttemptDetails(a.Attempt, a.State, a.WorkerId, a.Deliveries, a.StartedAt, a.FinishedAt, a.Code, a.Error)).ToList(),
                    t.MapIndex >= 0 ? t.MapIndex : null,
                    t.MapIndex < 0 && instances.Contains(t.TaskId) ? MappedSummary.Of(instances[t.TaskId]) : null))
                .ToList(), run.Reason);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/runs/{runId:long}", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(runId), ct) is { } run ? TypedResults.Ok(run) : Problems.NotFound($"No run {runId}."))
        .WithName("GetRun")
        .WithTags("Runs")
        .WithSummary("A run: state, pinned DAG version, every task instance with its attempts")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireRunRole(Roles.Viewer);
}
