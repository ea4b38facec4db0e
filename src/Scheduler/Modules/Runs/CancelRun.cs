using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>Cancels a run: queued tasks are cancelled, running ones are stopped. A run that already ended is a 409.</summary>
internal static class CancelRun
{
    public sealed record Command(long RunId) : ICommand<CancelResult?>;

    public sealed class Handler(RunOperations operations, AuditTrail audit) : ICommandHandler<Command, CancelResult?>
    {
        public async ValueTask<CancelResult?> Handle(Command command, CancellationToken cancellationToken) =>
            await operations.CancelRunAsync(command.RunId, audit.Entry("run.cancel", AuditTargets.Run(command.RunId)), cancellationToken);
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/runs/{runId:long}/cancel", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long runId, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(runId), ct);
            if (result is null)
                return Problems.NotFound($"No run {runId}.");
            if (!result.Cancelled)
                return Problems.Conflict($"Run {runId} already ended ({result.State}).");
            return TypedResults.Ok((await sender.Send(new GetRun.Query(runId), ct))!);
        })
        .WithName("CancelRun").WithTags("Runs")
        .WithSummary("Cancel a run: queued tasks are cancelled, running ones are stopped")
        .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
        .RequireRunRole(Roles.Operator);
}
