using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>Marks a task success or failed by hand; its downstream tasks follow as if it had ended so.</summary>
internal static class MarkTask
{
    [SchemaName("Runs.OperateRun.MarkRequest")]
    public sealed record Request(string? State, int? MapIndex = null);

    public sealed record Command(long RunId, string TaskId, string? State, int? MapIndex = null) : ICommand<MarkResult?>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(m => m.State).Must(s => s is TaskStates.Success or TaskStates.Failed)
                .WithMessage("'state' must be 'success' or 'failed'.");
            RuleFor(m => m.MapIndex).GreaterThanOrEqualTo(0);
        }
    }

    public sealed class Handler(RunOperations operations, AuditTrail audit) : ICommandHandler<Command, MarkResult?>
    {
        public async ValueTask<MarkResult?> Handle(Command command, CancellationToken cancellationToken) =>
            await operations.MarkAsync(command.RunId, command.TaskId, command.State!, command.MapIndex,
                audit.Entry("task.mark", AuditTargets.Task(command.RunId, command.TaskId), new() { ["state"] = command.State }), cancellationToken);
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/runs/{runId:long}/tasks/{taskId}/mark", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, string taskId, Request request, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(runId, taskId, request.State, request.MapIndex), ct);
            if (result is null || !result.Found)
                return Problems.NotFound(result is null ? $"No run {runId}."
                    : request.MapIndex is null ? $"Run {runId} has no task '{taskId}'." : $"Run {runId} has no instance {request.MapIndex} of task '{taskId}'.");
            return TypedResults.Ok((await sender.Send(new GetRun.Query(runId), ct))!);
        })
        .WithName("MarkTask").WithTags("Runs")
        .WithSummary("Mark a task success or failed; downstream tasks follow")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireRunRole(Roles.Operator);
}
