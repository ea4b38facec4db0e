using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Mediator;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Caching.Memory;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Access;

/// <summary>
/// Cookie options for the admin pages. The cookie holds the user id, name, role and the
/// user's security stamp. On each request the stamp is compared with the user's row, read at
/// most every <see cref="RecheckEvery"/> per user and replica (cached like API keys): a
/// changed password or role gives the row a new stamp and a deleted user has no row, so every
/// session issued before ends at once on the replica that made the change (its cache entry is
/// dropped) and within that time on the others. Forbidden is a plain 403 page, not a
/// redirect, so a viewer posting an action gets the status the API would give. The cookie is
/// sent over HTTPS only, except in Development (see <c>HttpHardening.CookieSecurePolicy</c>).
/// </summary>
internal static class AdminCookieSetup
{
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(5);

    public static void Configure(CookieAuthenticationOptions options)
    {
        options.Cookie.Name = AdminCookie.CookieName;
        options.Cookie.Path = AdminCookie.PathPrefix;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.LoginPath = AdminCookie.SignInPath;
        options.LogoutPath = "/admin/logout";
        options.ExpireTimeSpan = TimeSpan.FromHours(8);
        options.SlidingExpiration = true;
        options.Events.OnRedirectToAccessDenied = async context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.ContentType = "text/html; charset=utf-8";
            var role = System.Net.WebUtility.HtmlEncode(context.HttpContext.User.FindFirstValue(ClaimTypes.Role) ?? "none");
            await context.Response.WriteAsync($"""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title></head>
                <body><main><h1>403 Forbidden</h1><p>Your role ({role}) does not allow this action.</p>
                <p><a href="/admin">Back to the dashboard</a></p></main></body></html>
                """);
        };
        options.Events.OnValidatePrincipal = Recheck;
    }

    private static async Task Recheck(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal!;
        if (AdminCookie.UserId(principal) is not { } id)
        {
            context.RejectPrincipal();
            return;
        }
        var services = context.HttpContext.RequestServices;
        var cache = services.GetRequiredService<IMemoryCache>();
        var key = CacheKey(id);
        if (!cache.TryGetValue(key, out UserResponses.UserInfo? user))
        {
            user = await services.GetRequiredService<ISender>().Send(new GetUser.Query(id), context.HttpContext.RequestAborted);
            cache.Set(key, user, RecheckEvery);
        }
        // A cookie without a stamp was issued before stamps existed: it ends like a changed one.
        var current = user is not null
            && principal.FindFirstValue(AdminCookie.SecurityStampClaim) is { } stamp
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stamp), Encoding.ASCII.GetBytes(user.SecurityStamp))
            && user.Role == principal.FindFirstValue(ClaimTypes.Role)
            && user.Username == principal.Identity?.Name;
        if (!current)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AdminCookie.Scheme);
        }
    }

    private static string CacheKey(long userId) => "admin-user:" + userId;

    /// <summary>Drops the cached row, so this replica sees a change (or the deletion) on the user's next request.</summary>
    public static void Forget(IMemoryCache cache, long userId) => cache.Remove(CacheKey(userId));
}
