using System.Text.Json.Nodes;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>
/// A task's output (docs/authoring.md): the JSON value its latest attempt with one produced,
/// as downstream templates see it under <c>outputs.&lt;task_id&gt;</c>. A mapped task's output is
/// the array of its instances' outputs in map_index order (null for one without); one
/// instance's with <c>map_index</c>.
/// </summary>
internal static class GetTaskOutput
{
    public sealed record Query(long RunId, string TaskId, int? MapIndex = null) : IQuery<JsonNode?>;

    private sealed record Row(string TaskId, int MapIndex, int? Attempt, string? Output);

    /// <summary>
    /// Outputs by task from a run's rows (each instance with its attempts' outputs): a task's
    /// latest attempt with one, or for an expanded mapped task the array of its instances'.
    /// </summary>
    private static Dictionary<string, string> Combine(IEnumerable<Row> rows)
    {
        var combined = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var task in rows.GroupBy(r => r.TaskId, StringComparer.Ordinal))
        {
            if (task.Any(r => r.MapIndex >= 0))
            {
                var instances = task.Where(r => r.MapIndex >= 0).GroupBy(r => r.MapIndex).OrderBy(g => g.Key).ToList();
                var array = new JsonArray();
                foreach (var instance in instances)
                    array.Add(Latest(instance) is { } json ? JsonNode.Parse(json) : null);
                combined[task.Key] = array.ToJsonString();
            }
            else if (Latest(task) is { } output)
                combined[task.Key] = output;
        }
        return combined;
    }

    private static string? Latest(IEnumerable<Row> of) => of.Where(r => r.Output is not null).MaxBy(r => r.Attempt)?.Output;

    /// <summary>The run's rows (or one task's, or one instance's) with their attempts' outputs.</summary>
    private static IQueryable<Row> RowsOf(RunsDbContext db, long runId, string? taskId = null, int? mapIndex = null) =>
        from t in db.TaskInstances.AsNoTracking()
        where t.RunId == runId && (taskId == null || t.TaskId == taskId) && (mapIndex == null || t.MapIndex == mapIndex)
        from a in db.Attempts.AsNoTracking().Where(a => a.TaskInstanceId == t.Id && a.Output != null).DefaultIfEmpty()
        select new Row(t.TaskId, t.MapIndex, a == null ? null : a.Attempt, a == null ? null : a.Output);

    public sealed class Handler(RunsDbContext db) : IQueryHandler<Query, JsonNode?>, IQueryHandler<GetRunOutputs, IReadOnlyDictionary<string, string>>
    {
        public async ValueTask<JsonNode?> Handle(Query query, CancellationToken cancellationToken)
        {
            var rows = await RowsOf(db, query.RunId, query.TaskId, query.MapIndex).ToListAsync(cancellationToken);
            var output = query.MapIndex is null ? Combine(rows).GetValueOrDefault(query.TaskId) : Latest(rows);
            return output is null ? null : JsonNode.Parse(output);
        }

        public async ValueTask<IReadOnlyDictionary<string, string>> Handle(GetRunOutputs query, CancellationToken cancellationToken)
        {
            // Through the run's task instances (indexed by run): the latest attempt with an output, per task.
            return Combine(await RowsOf(db, query.RunId).ToListAsync(cancellationToken));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/runs/{runId:long}/tasks/{taskId}/output", async Task<Results<Ok<JsonNode>, ProblemHttpResult>> (long runId, string taskId, ISender sender, CancellationToken ct, [FromQuery(Name = "map_index")] int? mapIndex) =>
            await sender.Send(new Query(runId, taskId, mapIndex), ct) is { } output
                ? TypedResults.Ok(output)
                : Problems.NotFound($"No output for task '{taskId}'{(mapIndex is null ? "" : $" [{mapIndex}]")} of run {runId}."))
        .WithName("GetTaskOutput").WithTags("Runs")
        .WithSummary("The JSON output of a task (its latest attempt that produced one; a mapped task's: its instances' in order; ?map_index=N: one instance's)")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireRunRole(Roles.Viewer, (http, runId) => $"No output for task '{http.GetRouteValue("taskId")}' of run {runId}.");
}
