using System.Text.Json.Nodes;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>
/// A task's output (docs/authoring.md): the JSON value its latest attempt with one produced,
/// as downstream templates see it under <c>outputs.&lt;task_id&gt;</c>.
/// </summary>
internal static class GetTaskOutput
{
    public sealed record Query(long RunId, string TaskId) : IQuery<JsonNode?>;

    public sealed class Handler(RunsDbContext db) : IQueryHandler<Query, JsonNode?>, IQueryHandler<GetRunOutputs, IReadOnlyDictionary<string, string>>
    {
        public async ValueTask<JsonNode?> Handle(Query query, CancellationToken cancellationToken)
        {
            var instance = db.TaskInstances.AsNoTracking().Where(t => t.RunId == query.RunId && t.TaskId == query.TaskId).Select(t => t.Id);
            var output = await db.Attempts.AsNoTracking().Where(a => instance.Contains(a.TaskInstanceId) && a.Output != null)
                .OrderByDescending(a => a.Attempt).Select(a => a.Output).FirstOrDefaultAsync(cancellationToken);
            return output is null ? null : JsonNode.Parse(output);
        }

        public async ValueTask<IReadOnlyDictionary<string, string>> Handle(GetRunOutputs query, CancellationToken cancellationToken)
        {
            // Through the run's task instances (indexed by run): the latest attempt with an output, per task.
            var rows = await (from t in db.TaskInstances.AsNoTracking()
                              where t.RunId == query.RunId
                              join a in db.Attempts.AsNoTracking() on t.Id equals a.TaskInstanceId
                              where a.Output != null
                              select new { t.TaskId, a.Attempt, a.Output }).ToListAsync(cancellationToken);
            return rows.GroupBy(r => r.TaskId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.MaxBy(r => r.Attempt)!.Output!, StringComparer.Ordinal);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/runs/{runId:long}/tasks/{taskId}/output", async Task<Results<Ok<JsonNode>, ProblemHttpResult>> (long runId, string taskId, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(runId, taskId), ct) is { } output
                ? TypedResults.Ok(output)
                : Problems.NotFound($"No output for task '{taskId}' of run {runId}."))
        .WithName("GetTaskOutput").WithTags("Runs")
        .WithSummary("The JSON output of a task (its latest attempt that produced one)")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireRunRole(Roles.Viewer, (http, runId) => $"No output for task '{http.GetRouteValue("taskId")}' of run {runId}.");
}
