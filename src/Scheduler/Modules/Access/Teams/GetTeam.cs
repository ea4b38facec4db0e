using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Access.Teams;

internal static class GetTeam
{
    public sealed record Query(string Name) : IQuery<TeamInfo?>;

    public sealed class Handler(AccessDbContext db) : IQueryHandler<Query, TeamInfo?>
    {
        public async ValueTask<TeamInfo?> Handle(Query query, CancellationToken cancellationToken) =>
            await db.Teams.AsNoTracking().SingleOrDefaultAsync(t => t.Name == query.Name, cancellationToken) is { } t ? TeamResponses.ToInfo(t) : null;
    }

    /// <summary>A team the caller has no role in (and no global role) is 404 like one that does not exist.</summary>
    public static RouteHandlerBuilder Map(RouteGroupBuilder teams) => teams
        .MapGet("/{name}", async Task<Results<Ok<TeamInfo>, ProblemHttpResult>> (string name, ISender sender, HttpContext http, CancellationToken ct) =>
            TeamAccess.Of(http.User).CanSee(name) && await sender.Send(new Query(name), ct) is { } team
                ? TypedResults.Ok(team)
                : Problems.NotFound($"No team named '{name}'."))
        .WithName("GetTeam")
        .WithSummary("Get a team")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireAuthorization(Policies.TeamViewer);
}
