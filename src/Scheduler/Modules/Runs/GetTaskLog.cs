using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Runs;

/// <summary>An attempt's log as text (the latest attempt by default); a running attempt shows what it printed so far.</summary>
internal static class GetTaskLog
{
    public sealed record Query(long RunId, string TaskId, int? Attempt, int? MapIndex = null) : IQuery<string?>;

    public sealed class Handler(RunsDbContext db) : IQueryHandler<Query, string?>
    {
        public async ValueTask<string?> Handle(Query query, CancellationToken cancellationToken)
        {
            // Through the task instance (unique on run, task and map index), so the attempts' primary key serves the read.
            var mapIndex = query.MapIndex ?? -1;
            var instance = db.TaskInstances.AsNoTracking().Where(t => t.RunId == query.RunId && t.TaskId == query.TaskId && t.MapIndex == mapIndex).Select(t => t.Id);
            var attempts = db.Attempts.AsNoTracking().Where(a => instance.Contains(a.TaskInstanceId));
            if (query.Attempt is { } n)
                attempts = attempts.Where(a => a.Attempt == n);
            return await attempts.OrderByDescending(a => a.Attempt).Select(a => a.Log).FirstOrDefaultAsync(cancellationToken);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/runs/{runId:long}/tasks/{taskId}/logs", async Task<Results<ContentHttpResult, ProblemHttpResult>> (long runId, string taskId, ISender sender, CancellationToken ct, int? attempt, [FromQuery(Name = "map_index")] int? mapIndex) =>
            await sender.Send(new Query(runId, taskId, attempt, mapIndex), ct) is { } log
                ? TypedResults.Text(log, "text/plain; charset=utf-8")
                : Problems.NotFound($"No log for task '{taskId}'{(mapIndex is null ? "" : $" [{mapIndex}]")} of run {runId}{(attempt is null ? "" : $", attempt {attempt}")}."))
        .WithName("GetTaskLog").WithTags("Runs")
        .WithSummary("The log text of a task attempt (?attempt=N, default the latest; ?map_index=N: an instance of a mapped task)")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireRunRole(Roles.Viewer, (http, runId) =>
            $"No log for task '{http.GetRouteValue("taskId")}' of run {runId}{(http.Request.Query["attempt"] is { Count: > 0 } a && int.TryParse(a[0], System.Globalization.CultureInfo.InvariantCulture, out var n) ? $", attempt {n}" : "")}.");
}
