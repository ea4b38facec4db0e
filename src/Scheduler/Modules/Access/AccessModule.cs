using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Access.Sso;

namespace Scheduler.Modules.Access;

internal static class AccessModule
{
    public static IServiceCollection AddAccess(this IServiceCollection services, IConfiguration configuration)
    {
        // Single sign-on: read (and checked) once at start-up; a half-set section stops the start.
        var sso = SsoConfig.From(configuration);
        services.AddSingleton(sso);
        services.AddModuleDbContext<AccessDbContext>();
        services.AddMemoryCache();
        // /admin pages: cookie; everything else: API keys (see AdminCookie).
        var authentication = services.AddAuthentication(AdminCookie.SelectorScheme)
            .AddPolicyScheme(AdminCookie.SelectorScheme, "API key, or the admin pages' cookie under /admin", options =>
                options.ForwardDefaultSelector = context => AdminCookie.IsAdminPath(context.Request.Path) ? AdminCookie.Scheme : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddCookie(AdminCookie.Scheme, AdminCookieSetup.Configure);
        if (sso.Oidc is { } oidc)
            authentication.AddOidc(oidc);
        services.AddOptions<CookieAuthenticationOptions>(AdminCookie.Scheme)
            .Configure<IHostEnvironment>((options, environment) => options.Cookie.SecurePolicy = HttpHardening.CookieSecurePolicy(environment));
        services.AddSingleton<ApiKeyFailureLimiter>();
        services.AddAuthorization(Policies.Add);
        return services;
    }

    public static void MapAccess(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/api-keys").WithTags("API keys");
        CreateApiKey.Map(keys);
        ListApiKeys.Map(keys);
        RevokeApiKey.Map(keys);
        EraseUser.Map(api.MapGroup("/users").WithTags("Users"));
        var teams = api.MapGroup("/teams").WithTags("Teams");
        Teams.ListTeams.Map(teams);
        Teams.GetTeam.Map(teams);
        Teams.SaveTeam.Map(teams);
        Teams.DeleteTeam.Map(teams);
    }
}
