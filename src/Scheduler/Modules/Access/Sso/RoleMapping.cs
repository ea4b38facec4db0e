using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Validation;

namespace Scheduler.Modules.Access.Sso;

/// <summary>One grant a group gives: a global role (<see cref="Team"/> null) or a role in one team.</summary>
internal sealed record RoleGrant(string? Team, string Role);

/// <summary>
/// Maps the groups an identity provider or directory reports for a user to roles here, from
/// configuration such as <c>Auth__Oidc__RoleMappings__scheduler-admins=admin</c>: the key is the
/// group (compared without case, as configuration keys are), the value a global role
/// (<c>viewer</c>, <c>operator</c>, <c>admin</c>) or <c>team:role</c> for a role in one team.
/// A team grant gives that role in the team (docs/operations.md, Teams), never a global role. A
/// user in several mapped groups gets the highest global role and the highest role per team; a
/// user with neither a global role nor a role in an existing team is refused.
/// </summary>
internal sealed class RoleMapping
{
    private readonly Dictionary<string, RoleGrant> _grants;

    private RoleMapping(Dictionary<string, RoleGrant> grants) => _grants = grants;

    public int Count => _grants.Count;

    /// <summary>The mapping, or an <see cref="InvalidOperationException"/> naming the first bad entry (at start-up).</summary>
    public static RoleMapping Parse(IEnumerable<KeyValuePair<string, string?>> entries, string settingName)
    {
        var grants = new Dictionary<string, RoleGrant>(StringComparer.OrdinalIgnoreCase);
        foreach (var (group, value) in entries)
        {
            if (string.IsNullOrWhiteSpace(group))
                throw new InvalidOperationException($"{settingName}: a mapping has an empty group name.");
            grants[group.Trim()] = ParseGrant(value?.Trim())
                ?? throw new InvalidOperationException(
                    $"{settingName}:{group} is '{value}': it must be one of {string.Join(", ", Roles.All)}, or '<team>:<role>'.");
        }
        return new RoleMapping(grants);
    }

    /// <summary>A global role (<c>operator</c>) or a team role (<c>team:operator</c>), or null when <paramref name="value"/> is neither. The users page reads its team roles with it too.</summary>
    public static RoleGrant? ParseGrant(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        var team = colon < 0 ? null : value[..colon];
        var role = (colon < 0 ? value : value[(colon + 1)..]).ToLowerInvariant();
        if (!Roles.All.Contains(role))
            return null;
        if (team is not null && !Names.Pattern().IsMatch(team))
            return null;
        return new RoleGrant(team, role);
    }

    /// <summary>Every grant of the user's groups (each group once).</summary>
    public IReadOnlyList<RoleGrant> Grants(IEnumerable<string> groups) =>
        groups.Select(g => g.Trim()).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(g => _grants.GetValueOrDefault(g)).OfType<RoleGrant>().Distinct().ToList();

    /// <summary>The highest global role the groups give, or null when none of them maps to one.</summary>
    public string? GlobalRole(IEnumerable<string> groups) =>
        Grants(groups).Where(g => g.Team is null).Select(g => g.Role).MaxBy(Roles.Rank);

    /// <summary>The highest role the groups give in each team (empty when none maps to a team role).</summary>
    public IReadOnlyDictionary<string, string> TeamRoles(IEnumerable<string> groups) =>
        Grants(groups).Where(g => g.Team is not null).GroupBy(g => g.Team!, StringComparer.Ordinal)
            .ToDictionary(t => t.Key, t => t.Select(g => g.Role).MaxBy(Roles.Rank)!, StringComparer.Ordinal);
}
