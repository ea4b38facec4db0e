using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Runs.Backfills;

/// <summary>Stops a backfill: nothing more starts, its queued runs are cancelled, running ones finish. Cancelling twice is no error.</summary>
internal static class CancelBackfill
{
    public sealed record Command(long Id) : ICommand<Result>;

    public sealed record Result(bool Found, bool AlreadyCompleted, BackfillInfo? Backfill);

    public sealed class Handler(BackfillRuns backfills, NpgsqlDataSource dataSource) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            var cancelled = await backfills.CancelAsync(command.Id, cancellationToken);
            if (cancelled is null)
                return new Result(false, false, null);
            var info = (await BackfillReads.ReadAsync(dataSource, command.Id, null, null, 1, cancellationToken)).Single();
            return new Result(true, cancelled == false, info);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/backfills/{id:long}/cancel", async Task<Results<Ok<BackfillInfo>, ProblemHttpResult>> (long id, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(id), ct);
            if (!result.Found)
                return Problems.NotFound($"No backfill {id}.");
            if (result.AlreadyCompleted)
                return Problems.Conflict($"Backfill {id} has already completed.");
            return TypedResults.Ok(result.Backfill!);
        })
        .WithName("CancelBackfill").WithTags("Backfills").WithSummary("Cancel a backfill: its queued runs are cancelled, running ones finish")
        .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
        .RequireBackfillRole(Roles.Operator);
}
