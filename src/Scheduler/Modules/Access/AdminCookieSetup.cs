using System.Security.Claims;
using Mediator;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Caching.Memory;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Access;

/// <summary>
/// Cookie options for the admin pages. The cookie holds the user id, name and role; it is
/// re-checked against the users table at most every <see cref="RecheckEvery"/> (cached like
/// API keys), so a deleted user is locked out and a changed role applies within that time on
/// every replica, without a query per request. Forbidden is a plain 403 page, not a redirect,
/// so a viewer posting an action gets the status the API would give.
/// </summary>
internal static class AdminCookieSetup
{
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(10);

    public static void Configure(CookieAuthenticationOptions options)
    {
        options.Cookie.Name = AdminCookie.CookieName;
        options.Cookie.Path = AdminCookie.PathPrefix;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.LoginPath = "/admin/login";
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
        if (!long.TryParse(context.Principal?.FindFirstValue(AdminCookie.UserIdClaim), out var id))
        {
            context.RejectPrincipal();
            return;
        }
        var services = context.HttpContext.RequestServices;
        var cache = services.GetRequiredService<IMemoryCache>();
        var key = "admin-user:" + id;
        if (!cache.TryGetValue(key, out UserResponses.UserInfo? user))
        {
            user = await services.GetRequiredService<ISender>().Send(new GetUser.Query(id), context.HttpContext.RequestAborted);
            cache.Set(key, user, RecheckEvery);
        }
        if (user is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AdminCookie.Scheme);
            return;
        }
        if (user.Role != context.Principal!.FindFirstValue(ClaimTypes.Role) || user.Username != context.Principal.Identity?.Name)
        {
            context.ReplacePrincipal(AdminCookie.Principal(user.Id, user.Username, user.Role));
            context.ShouldRenew = true;
        }
    }

    public static void Forget(IMemoryCache cache, long userId) => cache.Remove("admin-user:" + userId);
}
