using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>Operator actions on a run: cancel it, clear a task (and downstream), mark a task.</summary>
internal static class OperateRun
{
    public sealed record Cancel(long RunId) : ICommand<CancelResult?>;

    public sealed record Clear(long RunId, string TaskId, bool Downstream) : ICommand<ClearResult?>;

    public sealed record Mark(long RunId, string TaskId, string? State) : ICommand<MarkResult?>;

    public sealed record MarkRequest(string? State);

    public sealed class MarkValidator : AbstractValidator<Mark>
    {
        public MarkValidator() => RuleFor(m => m.State).Must(s => s is TaskStates.Success or TaskStates.Failed)
            .WithMessage("'state' must be 'success' or 'failed'.");
    }

    public sealed class Handler(RunOperations operations) : ICommandHandler<Cancel, CancelResult?>, ICommandHandler<Clear, ClearResult?>, ICommandHandler<Mark, MarkResult?>
    {
        public async ValueTask<CancelResult?> Handle(Cancel command, CancellationToken cancellationToken) =>
            await operations.CancelRunAsync(command.RunId, cancellationToken);

        public async ValueTask<ClearResult?> Handle(Clear command, CancellationToken cancellationToken) =>
            await operations.ClearAsync(command.RunId, command.TaskId, command.Downstream, cancellationToken);

        public async ValueTask<MarkResult?> Handle(Mark command, CancellationToken cancellationToken) =>
            await operations.MarkAsync(command.RunId, command.TaskId, command.State!, cancellationToken);
    }

    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/runs/{runId:long}/cancel", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, ISender sender, CancellationToken ct) =>
            {
                var result = await sender.Send(new Cancel(runId), ct);
                if (result is null)
                    return Problems.NotFound($"No run {runId}.");
                if (!result.Cancelled)
                    return Problems.Conflict($"Run {runId} already ended ({result.State}).");
                return TypedResults.Ok((await sender.Send(new GetRun.Query(runId), ct))!);
            })
            .WithName("CancelRun").WithTags("Runs")
            .WithSummary("Cancel a run: queued tasks are cancelled, running ones are stopped")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(Policies.Operator);

        api.MapPost("/runs/{runId:long}/tasks/{taskId}/clear", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, string taskId, ISender sender, CancellationToken ct, bool? downstream) =>
            {
                var result = await sender.Send(new Clear(runId, taskId, downstream ?? false), ct);
                if (result is null || !result.Found)
                    return Problems.NotFound(result is null ? $"No run {runId}." : $"Run {runId} has no task '{taskId}'.");
                if (result.Cleared is null)
                    return Problems.Conflict($"A task to clear is running; cancel it or wait for it to finish.");
                return TypedResults.Ok((await sender.Send(new GetRun.Query(runId), ct))!);
            })
            .WithName("ClearTask").WithTags("Runs")
            .WithSummary("Rerun a task in its run (?downstream=true: and everything depending on it)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(Policies.Operator);

        api.MapPost("/runs/{runId:long}/tasks/{taskId}/mark", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, string taskId, MarkRequest request, ISender sender, CancellationToken ct) =>
            {
                var result = await sender.Send(new Mark(runId, taskId, request.State), ct);
                if (result is null || !result.Found)
                    return Problems.NotFound(result is null ? $"No run {runId}." : $"Run {runId} has no task '{taskId}'.");
                return TypedResults.Ok((await sender.Send(new GetRun.Query(runId), ct))!);
            })
            .WithName("MarkTask").WithTags("Runs")
            .WithSummary("Mark a task success or failed; downstream tasks follow")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(Policies.Operator);
    }
}
