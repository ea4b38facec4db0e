using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Infrastructure.Auth;

/// <summary>The team of the object a request names, or null when there is no such object (the handler answers that).</summary>
internal sealed record TeamOwner(string? Team, string NotFound);

/// <summary>
/// Applies <see cref="TeamAccess"/> to endpoints that name one object: the endpoint gets the
/// team-level policy, and a filter looks up the object's team before the handler runs. A
/// caller who may not see the object gets the same 404 as for a missing one; one who may see
/// but not act gets 403.
/// </summary>
internal static class TeamGate
{
    /// <param name="hidden">What a hidden object gets when its endpoint answers a missing one with something else than 404 (an empty list): the same thing.</param>
    public static RouteHandlerBuilder RequireTeamRole(this RouteHandlerBuilder builder, string needed,
        Func<EndpointFilterInvocationContext, ValueTask<TeamOwner?>> owner, Func<object>? hidden = null) => builder
        .RequireAuthorization(Policies.Team(needed))
        .ProducesProblem(StatusCodes.Status404NotFound)
        .AddEndpointFilter(async (context, next) =>
        {
            if (await owner(context) is not { } found)
                return await next(context);
            if (hidden is not null && !TeamAccess.Of(context.HttpContext.User).CanSee(found.Team))
                return hidden();
            if (Refusal(context.HttpContext, found.Team, needed, found.NotFound) is { } refused)
                return refused;
            return await next(context);
        });

    /// <summary>The 404 or 403 for acting with <paramref name="needed"/> on an object of <paramref name="team"/>, or null when allowed.</summary>
    public static ProblemHttpResult? Refusal(HttpContext http, string? team, string needed, string notFound) =>
        TeamAccess.Of(http.User).Decide(team, needed) switch
        {
            Decision.Hidden => Problems.NotFound(notFound),
            Decision.Forbidden => Forbidden(http, needed),
            _ => null,
        };

    /// <summary>
    /// Creating (or moving) an object into <paramref name="team"/> needs admin there (or globally):
    /// a 403 otherwise. An object without a team needs a global admin.
    /// </summary>
    public static ProblemHttpResult? CreateRefusal(HttpContext http, string? team) =>
        TeamAccess.Of(http.User).Can(team, Roles.Admin)
            ? null
            : TypedResults.Problem(team is null
                    ? "Only a global admin may create or change an object without a team; set 'team' to one you are admin of."
                    : $"Your role in team '{team}' does not allow creating or changing its objects (admin needed).",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", type: Problems.TypeFor(403));

    private static ProblemHttpResult Forbidden(HttpContext http, string needed) =>
        TypedResults.Problem($"Your role on this object does not allow this operation ({needed} needed).",
            statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", type: Problems.TypeFor(403));
}
