using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>
/// A fresh attempt of a dead-lettered task: clears it and its downstream in its run (one
/// attempt plus its retries). A letter is requeued at most once.
/// </summary>
internal static class RequeueDeadLetter
{
    public sealed record Command(long Id) : ICommand<Outcome>;

    public sealed record Outcome(Result Result, long RunId = 0);

    public enum Result { NotFound, AlreadyRequeued, Busy, Requeued }

    public sealed class Handler(RunsDbContext db, RunOperations operations, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Outcome>
    {
        public async ValueTask<Outcome> Handle(Command command, CancellationToken cancellationToken)
        {
            var letter = await db.DeadLetters.SingleOrDefaultAsync(d => d.Id == command.Id, cancellationToken);
            if (letter is null)
                return new(Result.NotFound);
            if (letter.RequeuedAt is not null)
                return new(Result.AlreadyRequeued);
            var entry = audit.Entry("dead_letter.requeue", AuditTargets.DeadLetter(letter.Id), new() { ["run_id"] = letter.RunId, ["task_id"] = letter.TaskId });
            // A dead instance of a mapped task is requeued alone (with what follows its task).
            var mapIndex = await db.TaskInstances.Where(t => t.Id == letter.TaskInstanceId).Select(t => (int?)t.MapIndex).SingleOrDefaultAsync(cancellationToken);
            var cleared = await operations.ClearAsync(letter.RunId, letter.TaskId, downstream: true, mapIndex >= 0 ? mapIndex : null, entry, cancellationToken);
            if (cleared?.Cleared is null)
                return new(cleared is null ? Result.NotFound : Result.Busy);
            letter.RequeuedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            return new(Result.Requeued, letter.RunId);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/dead-letters/{id:long}/requeue", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long id, ISender sender, CancellationToken ct) =>
        {
            var outcome = await sender.Send(new Command(id), ct);
            return outcome.Result switch
            {
                Result.NotFound => Problems.NotFound($"No dead letter {id}."),
                Result.AlreadyRequeued => Problems.Conflict($"Dead letter {id} was already requeued."),
                Result.Busy => Problems.Conflict("The task is running again already."),
                _ => TypedResults.Ok((await sender.Send(new GetRun.Query(outcome.RunId), ct))!),
            };
        })
        .WithName("RequeueDeadLetter").WithTags("Runs")
        .WithSummary("Start a fresh attempt of a dead-lettered task (and rerun its downstream)")
        .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
        .RequireAuthorization(Policies.Operator);
}
