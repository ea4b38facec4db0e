using System.Text;
using System.Text.Json.Nodes;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>
/// Ends a signal wait (or any waiting task) with success: the optional JSON body becomes the
/// task's output, which downstream templates read as <c>outputs.&lt;task_id&gt;</c>. A task that
/// is not waiting is a 409 and changes nothing.
/// </summary>
internal static class SignalTask
{
    public sealed record Command(long RunId, string TaskId, string? OutputJson) : ICommand<SignalResult?>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.OutputJson).Must(o => o is null || Encoding.UTF8.GetByteCount(o) <= TaskOutcome.MaxOutputBytes)
            .WithName("body").WithMessage($"the body becomes the task's output, which is capped at {TaskOutcome.MaxOutputBytes} bytes of JSON.");
    }

    public sealed class Handler(RunOperations operations, AuditTrail audit) : ICommandHandler<Command, SignalResult?>
    {
        public async ValueTask<SignalResult?> Handle(Command command, CancellationToken cancellationToken) =>
            await operations.SignalAsync(command.RunId, command.TaskId, command.OutputJson,
                audit.Entry("task.signal", AuditTargets.Task(command.RunId, command.TaskId), new() { ["output"] = command.OutputJson is not null }), cancellationToken);
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/runs/{runId:long}/tasks/{taskId}/signal", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, string taskId,
            [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] JsonNode? body, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(runId, taskId, body?.ToJsonString()), ct);
            if (result is null || !result.Found)
                return Problems.NotFound(result is null ? $"No run {runId}." : $"Run {runId} has no task '{taskId}'.");
            if (!result.Signalled)
                return Problems.Conflict($"Task '{taskId}' of run {runId} is not waiting ({result.State ?? "unknown"}); only a waiting task can be signalled.");
            return TypedResults.Ok((await sender.Send(new GetRun.Query(runId), ct))!);
        })
        .WithName("SignalTask").WithTags("Runs")
        .WithSummary("Finish a waiting task (a signal wait); the optional JSON body becomes its output")
        .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
        .RequireRunRole(Roles.Operator);
}
