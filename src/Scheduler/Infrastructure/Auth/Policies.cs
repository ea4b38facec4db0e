using Microsoft.AspNetCore.Authorization;

namespace Scheduler.Infrastructure.Auth;

/// <summary>
/// Three roles, each including the one below: a viewer reads; an operator also triggers,
/// pauses, clears and cancels; an admin also writes DAGs and manages keys, users and secrets.
/// </summary>
internal static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";
    public static readonly IReadOnlyList<string> All = [Viewer, Operator, Admin];

    public static int Rank(string? role) => role switch { Viewer => 1, Operator => 2, Admin => 3, _ => 0 };
}

/// <summary>Policy names by the least role they need.</summary>
internal static class Policies
{
    public const string Viewer = "at-least-viewer";
    public const string Operator = "at-least-operator";
    public const string Admin = "at-least-admin";

    /// <summary>
    /// The gates of team-scoped endpoints (DAGs and their runs, connections, variables, channels,
    /// monitors): the role globally, or any team role (<see cref="TeamAccess.MayTry"/>). The
    /// object's own team is checked after, by <see cref="TeamGate"/> and the list filters.
    /// </summary>
    public const string TeamViewer = "viewer-somewhere";
    public const string TeamOperator = "operator-somewhere";
    public const string TeamAdmin = "admin-somewhere";

    public static string Team(string role) => role switch { Roles.Admin => TeamAdmin, Roles.Operator => TeamOperator, _ => TeamViewer };

    public static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(Viewer, p => p.RequireAuthenticatedUser().RequireRole(Roles.Viewer, Roles.Operator, Roles.Admin));
        options.AddPolicy(Operator, p => p.RequireAuthenticatedUser().RequireRole(Roles.Operator, Roles.Admin));
        options.AddPolicy(Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        foreach (var role in Roles.All)
            options.AddPolicy(Team(role), p => p.RequireAuthenticatedUser().RequireAssertion(c => TeamAccess.Of(c.User).MayTry(role)));
        // An endpoint that forgets to name a policy is still closed to anonymous callers.
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
    }
}
