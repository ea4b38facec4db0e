using System.Security.Claims;

namespace Scheduler.Infrastructure.Auth;

/// <summary>What a caller may do with one object: act, see only (403 for the act), or nothing (404, no existence leak).</summary>
internal enum Decision { Allowed, Forbidden, Hidden }

/// <summary>
/// THE authorization rule for objects that may belong to a team (DAGs and everything of their
/// runs, connections, variables, channels, monitors). A caller has an optional global role and a
/// role per team; the effective role on an object is the higher of the global role and the role
/// in the object's team (an object without a team: the global role alone). Less than viewer on
/// an object hides it (404, and lists leave it out); viewer but less than the act needs is 403.
/// Every handler and list filter asks this type; no other code compares team roles.
/// </summary>
internal sealed class TeamAccess
{
    public const string TeamRoleClaim = "team_role";

    private readonly Dictionary<string, string> _teamRoles;

    public TeamAccess(string? globalRole, IReadOnlyDictionary<string, string>? teamRoles)
    {
        GlobalRole = Roles.Rank(globalRole) > 0 ? globalRole : null;
        _teamRoles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (team, role) in teamRoles ?? new Dictionary<string, string>())
            if (Roles.Rank(role) > 0)
                _teamRoles[team] = role;
    }

    public string? GlobalRole { get; }

    public IReadOnlyDictionary<string, string> TeamRoles => _teamRoles;

    /// <summary>The caller of a request: the global role claim and one <see cref="TeamRoleClaim"/> (<c>team:role</c>) per team.</summary>
    public static TeamAccess Of(ClaimsPrincipal user)
    {
        var teams = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var claim in user.FindAll(TeamRoleClaim))
        {
            var colon = claim.Value.LastIndexOf(':');
            if (colon > 0)
                teams[claim.Value[..colon]] = claim.Value[(colon + 1)..];
        }
        return new TeamAccess(user.FindFirstValue(ClaimTypes.Role), teams);
    }

    /// <summary>The claims that carry <paramref name="teamRoles"/> (authentication handlers add them).</summary>
    public static IEnumerable<Claim> Claims(IReadOnlyDictionary<string, string>? teamRoles) =>
        (teamRoles ?? new Dictionary<string, string>()).Select(t => new Claim(TeamRoleClaim, t.Key + ":" + t.Value));

    /// <summary>The effective role on an object of <paramref name="team"/> (null: no team), or null for none.</summary>
    public string? RoleOn(string? team)
    {
        var teamRole = team is not null ? _teamRoles.GetValueOrDefault(team) : null;
        return Roles.Rank(teamRole) > Roles.Rank(GlobalRole) ? teamRole : GlobalRole;
    }

    public Decision Decide(string? team, string needed)
    {
        var rank = Roles.Rank(RoleOn(team));
        if (rank < Roles.Rank(Roles.Viewer))
            return Decision.Hidden;
        return rank >= Roles.Rank(needed) ? Decision.Allowed : Decision.Forbidden;
    }

    public bool CanSee(string? team) => Decide(team, Roles.Viewer) == Decision.Allowed;

    public bool Can(string? team, string needed) => Decide(team, needed) == Decision.Allowed;

    /// <summary>
    /// The teams whose objects a list may show, or null when it shows everything (a global role
    /// of at least <paramref name="needed"/>, the role the list itself needs). Otherwise only
    /// objects of the teams where the caller's role reaches <paramref name="needed"/>, never
    /// objects without a team. Compute once per request and filter queries with it (in-memory
    /// lists: <see cref="CanSee"/>).
    /// </summary>
    public IReadOnlyList<string>? VisibleTeams(string needed = Roles.Viewer) =>
        Roles.Rank(GlobalRole) >= Roles.Rank(needed)
            ? null
            : _teamRoles.Where(t => Roles.Rank(t.Value) >= Roles.Rank(needed)).Select(t => t.Key).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The gate of team-scoped endpoints, before the object is known: a global role that reaches
    /// <paramref name="needed"/> (as without teams: 403 otherwise, whatever the object), or any
    /// team role, whose effect depends on the object's team (404 or 403 from <see cref="Decide"/>,
    /// so a caller of one team learns nothing about another's objects).
    /// </summary>
    public bool MayTry(string needed) => Roles.Rank(GlobalRole) >= Roles.Rank(needed) || _teamRoles.Count > 0;
}
