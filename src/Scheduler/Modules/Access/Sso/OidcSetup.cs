using System.Security.Claims;
using Mediator;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Access.Sso;

/// <summary>
/// OpenID Connect for the admin pages: authorization code with PKCE, the code sent back in the
/// query (so the correlation and nonce cookies can be SameSite=Lax), claims read from the
/// userinfo endpoint too. When the provider vouched for a user, <see cref="ExternalSignIn"/>
/// records them and the admin cookie is issued exactly as for a local sign-in (id, role,
/// security stamp): everything after that (the recheck, sign-out, the role policies) is the same.
/// A refusal (no mapped role, a local user of that name, a provider error) goes back to the
/// login page, which says why.
/// </summary>
internal static class OidcSetup
{
    public static AuthenticationBuilder AddOidc(this AuthenticationBuilder authentication, OidcSettings settings)
    {
        authentication.AddOpenIdConnect(OidcSettings.Scheme, settings.DisplayName, options =>
        {
            options.Authority = settings.Authority;
            options.ClientId = settings.ClientId;
            options.ClientSecret = settings.ClientSecret;
            options.RequireHttpsMetadata = settings.RequireHttpsMetadata;
            options.ResponseType = OpenIdConnectResponseType.Code;
            options.ResponseMode = OpenIdConnectResponseMode.Query;
            options.UsePkce = true;
            options.SignInScheme = AdminCookie.Scheme;
            options.CallbackPath = OidcSettings.CallbackPath;
            options.SignedOutCallbackPath = AdminCookie.PathPrefix + "/signout-callback-oidc";
            options.RemoteSignOutPath = AdminCookie.PathPrefix + "/signout-oidc";
            options.MapInboundClaims = false;
            options.GetClaimsFromUserInfoEndpoint = true;
            options.SaveTokens = false;
            options.Scope.Clear();
            foreach (var scope in settings.Scopes)
                options.Scope.Add(scope);
            options.ClaimActions.MapJsonKey(settings.RolesClaim, settings.RolesClaim);
            options.ClaimActions.MapUniqueJsonKey(settings.UsernameClaim, settings.UsernameClaim);
            options.CorrelationCookie.SameSite = SameSiteMode.Lax;
            options.CorrelationCookie.Path = AdminCookie.PathPrefix;
            options.NonceCookie.SameSite = SameSiteMode.Lax;
            options.NonceCookie.Path = AdminCookie.PathPrefix;
            options.Events.OnTicketReceived = context => SignInAsync(context, settings);
            options.Events.OnRemoteFailure = context =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ILogger<OidcSettings>>().LogWarning(context.Failure, "OpenID Connect sign-in failed");
                context.Response.Redirect(AdminCookie.SignInPath + "?sso_error=failed");
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
        authentication.Services.AddOptions<OpenIdConnectOptions>(OidcSettings.Scheme).Configure<IHostEnvironment>((options, environment) =>
        {
            options.CorrelationCookie.SecurePolicy = HttpHardening.CookieSecurePolicy(environment);
            options.NonceCookie.SecurePolicy = HttpHardening.CookieSecurePolicy(environment);
        });
        return authentication;
    }

    private static async Task SignInAsync(TicketReceivedContext context, OidcSettings settings)
    {
        var principal = context.Principal!;
        var username = principal.FindFirstValue(settings.UsernameClaim);
        var groups = principal.FindAll(settings.RolesClaim).Select(c => c.Value).ToList();
        var role = settings.Mappings.GlobalRole(groups);
        var sender = context.HttpContext.RequestServices.GetRequiredService<ISender>();
        var (outcome, user) = await sender.Send(new ExternalSignIn.Command(UserSources.Oidc, username, role, settings.Mappings.TeamRoles(groups)), context.HttpContext.RequestAborted);
        if (outcome == SsoOutcome.SignedIn && user is not null)
        {
            context.Principal = AdminCookie.Principal(user.Id, user.Username, user.Role, user.SecurityStamp, user.Roles);
            // The browser arrives here through the provider's redirect, a cross-site chain in
            // which it does not send the SameSite=Strict admin cookie: one same-site step (the
            // login page's Continue handler) before the page asked for.
            context.ReturnUri = AdminCookie.SignInPath + "?handler=Continue&returnUrl=" + Uri.EscapeDataString(context.ReturnUri ?? AdminCookie.PathPrefix);
            return;
        }
        context.HttpContext.RequestServices.GetRequiredService<ILogger<OidcSettings>>()
            .LogWarning("OpenID Connect sign-in of {User} refused: {Outcome} (groups: {Groups})", username, outcome, groups);
        context.Response.Redirect(SsoErrors.LoginUrl(outcome, username));
        context.HandleResponse();
    }
}

/// <summary>The login page's message for a refused single sign-on, by the code in its <c>sso_error</c> parameter.</summary>
internal static class SsoErrors
{
    public static string LoginUrl(SsoOutcome outcome, string? username) =>
        AdminCookie.SignInPath + "?sso_error=" + Code(outcome) + (ExternalSignIn.IsUsableUsername(username) ? "&sso_user=" + Uri.EscapeDataString(username!) : "");

    public static string Code(SsoOutcome outcome) => outcome switch
    {
        SsoOutcome.NoRole => "no_role",
        SsoOutcome.OtherSource => "other_source",
        SsoOutcome.BadUsername => "bad_username",
        SsoOutcome.Unavailable => "unavailable",
        _ => "failed",
    };

    /// <summary>The sentence for a code; null for an unknown one (nothing is shown).</summary>
    public static string? Message(string? code, string? username)
    {
        var who = string.IsNullOrEmpty(username) ? "Your account" : $"The account '{username}'";
        return code switch
        {
            "no_role" => $"{who} was signed in by the identity provider, but none of its groups gives a role in Scheduler. Ask an administrator to map one of your groups to a role.",
            "other_source" => $"{who} is already a user of another kind here (for example a local user with a password): sign in the way that user does.",
            "bad_username" => "The identity provider did not send a usable username (check the UsernameClaim setting).",
            "unavailable" => "The directory could not be reached: try again later.",
            "failed" => "Single sign-on failed: the identity provider's answer could not be used. Try again.",
            _ => null,
        };
    }
}
