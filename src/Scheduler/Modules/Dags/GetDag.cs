using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Contracts;

using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags;

internal static class GetDag
{
    public sealed record Query(string Name) : IQuery<DagDetails?>;

    public sealed class Handler(DagsDbContext db, ISender sender) : IQueryHandler<Query, DagDetails?>
    {
        public async ValueTask<DagDetails?> Handle(Query query, CancellationToken cancellationToken)
        {
            var dag = await db.Dags.AsNoTracking().SingleOrDefaultAsync(d => d.Name == query.Name, cancellationToken);
            if (dag is null)
                return null;
            var last = await sender.Send(new GetLastRunStates([dag.Name]), cancellationToken);
            return dag.ToDetails() with { LastRunState = last.GetValueOrDefault(dag.Name) };
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapGet("/{name}", async Task<Results<Ok<DagDetails>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(name), ct) is { } dag ? TypedResults.Ok(dag) : Problems.NotFound($"No DAG named '{name}'."))
        .WithName("GetDag")
        .WithSummary("Get a DAG: definition, current version, paused, next run time")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireDagRole(Roles.Viewer);
}
