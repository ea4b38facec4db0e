using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace Scheduler.Infrastructure.Auth;

/// <summary>
/// The admin pages at <c>/admin</c> authenticate with a cookie (username and password);
/// everything else keeps API keys. The default scheme is a policy scheme that picks one of
/// the two by path, so the role policies work unchanged for both. A cookie is never
/// accepted by the REST API (no CSRF exposure there), and an API key never opens the pages.
/// </summary>
internal static class AdminCookie
{
    public const string Scheme = "AdminCookie";
    public const string SelectorScheme = "ApiKeyOrAdminCookie";
    public const string CookieName = "scheduler_admin";
    public const string PathPrefix = "/admin";
    public const string UserIdClaim = "user_id";
    public const string SecurityStampClaim = "security_stamp";
    public const string SignInPath = PathPrefix + "/login";

    public static bool IsAdminPath(PathString path) => path.StartsWithSegments(PathPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The signed-in user's id, or null (not signed in to the pages).</summary>
    public static long? UserId(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(UserIdClaim), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>The cookie's claims. The cookie is encrypted (Data Protection), so the stamp is never readable by the client.</summary>
    /// <param name="role">The global role; null for a user with team roles only, who gets no role claim (as a team-only API key).</param>
    /// <param name="teamRoles">The user's roles per team (<see cref="TeamAccess"/>); a change of them gives the user a new stamp.</param>
    public static ClaimsPrincipal Principal(long userId, string username, string? role, string securityStamp, IReadOnlyDictionary<string, string>? teamRoles = null) =>
        new(new ClaimsIdentity(
            new[]
            {
                new Claim(ClaimTypes.Name, username),
                new Claim(UserIdClaim, userId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(SecurityStampClaim, securityStamp),
            }.Concat(role is null ? [] : [new Claim(ClaimTypes.Role, role)]).Concat(TeamAccess.Claims(teamRoles)),
            Scheme, ClaimTypes.Name, ClaimTypes.Role));

    /// <summary>
    /// True when the request carries a valid admin-pages cookie of an admin. For dashboards
    /// mounted under /admin (the Hangfire dashboard at /admin/jobs): an authorization filter
    /// can call this. Authenticates explicitly, so it does not depend on middleware order.
    /// </summary>
    public static async Task<bool> IsAdminAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        return result.Succeeded && result.Principal.IsInRole(Roles.Admin);
    }

    /// <summary>The synchronous check on an already authenticated request (UseAuthentication ran for an /admin path).</summary>
    public static bool IsAdmin(HttpContext http) =>
        http.User.Identity is { IsAuthenticated: true, AuthenticationType: Scheme } && http.User.IsInRole(Roles.Admin);
}
