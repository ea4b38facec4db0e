using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>
/// Reruns a task in its run (and, with <c>downstream</c>, everything depending on it); a 409
/// while one of them runs. <c>map_index</c> reruns one instance of a mapped task.
/// </summary>
internal static class ClearTask
{
    public sealed record Command(long RunId, string TaskId, bool Downstream, int? MapIndex = null) : ICommand<ClearResult?>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.MapIndex).GreaterThanOrEqualTo(0);
    }

    public sealed class Handler(RunOperations operations, AuditTrail audit) : ICommandHandler<Command, ClearResult?>
    {
        public async ValueTask<ClearResult?> Handle(Command command, CancellationToken cancellationToken) =>
            await operations.ClearAsync(command.RunId, command.TaskId, command.Downstream, command.MapIndex,
                audit.Entry("task.clear", AuditTargets.Task(command.RunId, command.TaskId), new() { ["downstream"] = command.Downstream }), cancellationToken);
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/runs/{runId:long}/tasks/{taskId}/clear", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, string taskId, ISender sender, CancellationToken ct, bool? downstream, [FromQuery(Name = "map_index")] int? mapIndex) =>
        {
            var result = await sender.Send(new Command(runId, taskId, downstream ?? false, mapIndex), ct);
            if (result is null || !result.Found)
                return Problems.NotFound(result is null ? $"No run {runId}."
                    : mapIndex is null ? $"Run {runId} has no task '{taskId}'." : $"Run {runId} has no instance {mapIndex} of task '{taskId}'.");
            if (result.Cleared is null)
                return Problems.Conflict($"A task to clear is running; cancel it or wait for it to finish.");
            return TypedResults.Ok((await sender.Send(new GetRun.Query(runId), ct))!);
        })
        .WithName("ClearTask").WithTags("Runs")
        .WithSummary("Rerun a task in its run (?downstream=true: and everything depending on it; ?map_index=N: one instance of a mapped task)")
        .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
        .RequireRunRole(Roles.Operator);
}
