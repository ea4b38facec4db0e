using Mediator;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Dags.Contracts;

/// <summary>The team of each of <paramref name="Names"/> that is a DAG (null: no team); names that are no DAG are left out.</summary>
public sealed record GetDagTeams(IReadOnlyCollection<string> Names) : IQuery<IReadOnlyDictionary<string, string?>>;

/// <summary>
/// The teams of all DAGs a caller with <paramref name="VisibleTeams"/> (see TeamAccess) may see:
/// the names of the DAGs of those teams. For filters over other modules' rows by DAG name.
/// </summary>
public sealed record ListTeamDagNames(IReadOnlyList<string> VisibleTeams) : IQuery<IReadOnlyList<string>>;

/// <summary>The team check of endpoints that name a DAG (a route value, <c>name</c> by default): 404 when hidden, 403 when seen only.</summary>
public static class DagGate
{
    /// <param name="notFound">The endpoint's own 404 text for a missing DAG, so a hidden one reads the same (default "No DAG named 'x'.").</param>
    /// <param name="hidden">For lists that answer a missing DAG with an empty page: the same for a hidden one.</param>
    public static RouteHandlerBuilder RequireDagRole(this RouteHandlerBuilder builder, string needed, Func<HttpContext, string>? notFound = null, Func<object>? hidden = null) =>
        builder.RequireTeamRole(needed, async context =>
        {
            var name = context.HttpContext.GetRouteValue("name") as string;
            if (name is null)
                return null;
            var teams = await context.HttpContext.RequestServices.GetRequiredService<ISender>()
                .Send(new GetDagTeams([name]), context.HttpContext.RequestAborted);
            return teams.TryGetValue(name, out var team) ? new TeamOwner(team, notFound?.Invoke(context.HttpContext) ?? $"No DAG named '{name}'.") : null;
        }, hidden);

    /// <summary>The owner of a DAG by name for gates of other modules (a run's or backfill's DAG).</summary>
    internal static async ValueTask<TeamOwner?> OwnerAsync(ISender sender, string dagName, string notFound, CancellationToken ct) =>
        (await sender.Send(new GetDagTeams([dagName]), ct)).TryGetValue(dagName, out var team) ? new TeamOwner(team, notFound) : null;
}
