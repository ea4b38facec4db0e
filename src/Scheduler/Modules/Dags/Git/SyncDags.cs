using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Dags.Git;

/// <summary><c>POST /dags/sync</c>: fetch the configured repository now and import its head commit.</summary>
internal static class SyncDags
{
    public sealed record Command : ICommand<Reply>;

    /// <param name="Result">Null when no repository is configured.</param>
    /// <param name="Failure">What git said when the fetch or a read failed.</param>
    public sealed record Reply(SyncResult? Result, string? Failure = null);

    public sealed class Handler(GitImporter importer) : ICommandHandler<Command, Reply>
    {
        public async ValueTask<Reply> Handle(Command command, CancellationToken cancellationToken)
        {
            if (!importer.Configured)
                return new Reply(null);
            try
            {
                return new Reply(await importer.SyncAsync(cancellationToken));
            }
            catch (GitException e)
            {
                return new Reply(null, e.Message);
            }
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapPost("/sync", async Task<Results<Ok<SyncResult>, ProblemHttpResult>> (ISender sender, CancellationToken ct) =>
        {
            var reply = await sender.Send(new Command(), ct);
            if (reply.Result is { } result)
                return TypedResults.Ok(result);
            return reply.Failure is { } failure
                ? TypedResults.Problem(failure, statusCode: StatusCodes.Status502BadGateway, title: "Git failed", type: Problems.TypeBase + "git")
                : Problems.Conflict("No git repository is configured (Dags__Git__Repository); DAGs come from the REST API only.");
        })
        .WithName("SyncDags")
        .WithSummary("Pull the DAG repository now")
        .WithDescription("Fetches the branch of Dags:Git:Repository and imports its head commit (nothing when that commit was imported already). 409 when no repository is configured, 502 when git fails.")
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status502BadGateway)
        .RequireAuthorization(Policies.Operator);
}
