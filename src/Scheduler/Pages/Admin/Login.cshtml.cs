using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Access;
using Scheduler.Modules.Access.Sso;

namespace Scheduler.Pages.Admin;

internal sealed class LoginModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Username { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty(Name = "sso_error", SupportsGet = true)]
    public string? SsoError { get; set; }

    [BindProperty(Name = "sso_user", SupportsGet = true)]
    public string? SsoUser { get; set; }

    public bool Failed { get; private set; }

    /// <summary>Why single sign-on refused the user, or null.</summary>
    public string? SsoMessage { get; private set; }

    /// <summary>The "Sign in with ..." button's provider name, or null when OIDC is off.</summary>
    public string? SsoButton => HttpContext.RequestServices.GetRequiredService<SsoConfig>().Oidc?.DisplayName;

    public IActionResult OnGet()
    {
        if (User.Identity?.IsAuthenticated == true)
            return LocalRedirect(Target());
        SsoMessage = SsoErrors.Message(SsoError, SsoUser);
        if (SsoMessage is not null)
            Response.StatusCode = SsoError == "unavailable" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status403Forbidden;
        return Page();
    }

    /// <summary>
    /// The "Sign in with SSO" link: off to the OpenID provider (code + PKCE), back at
    /// /admin/signin-oidc. A GET is safe: the state and correlation cookie tie the answer to
    /// this browser, so nobody can make it sign in as someone else.
    /// </summary>
    public IActionResult OnGetSso() =>
        SsoButton is null ? NotFound() : Challenge(new AuthenticationProperties { RedirectUri = Target() }, OidcSettings.Scheme);

    /// <summary>
    /// After the provider's redirect back: a page that moves on by itself (meta refresh, a
    /// navigation this site starts), so the browser sends the SameSite=Strict admin cookie
    /// that it holds back on a redirect chain that began at another site.
    /// </summary>
    public ContentResult OnGetContinue()
    {
        var target = System.Net.WebUtility.HtmlEncode(Target());
        return Content($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={target}"><title>Signed in</title></head>
            <body><main><p>Signed in. <a href="{target}">Continue</a></p></main></body></html>
            """, "text/html; charset=utf-8");
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var ldap = HttpContext.RequestServices.GetRequiredService<SsoConfig>().Ldap is not null;
        var user = await Sender.Send(new SignInUser.Query(Username, Password, RecordFailure: !ldap), HttpContext.RequestAborted);
        if (user is null && ldap)
        {
            var (outcome, ldapUser) = await Sender.Send(new LdapSignIn.Command(Username, Password), HttpContext.RequestAborted);
            user = ldapUser;
            if (outcome is not (SsoOutcome.SignedIn or SsoOutcome.InvalidCredentials))
            {
                SsoMessage = SsoErrors.Message(SsoErrors.Code(outcome), Username);
                Response.StatusCode = outcome == SsoOutcome.Unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status403Forbidden;
                return Page();
            }
        }
        if (user is null)
        {
            Failed = true;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        await HttpContext.SignInAsync(AdminCookie.Scheme, AdminCookie.Principal(user.Id, user.Username, user.Role, user.SecurityStamp, user.Roles));
        return LocalRedirect(Target());
    }

    /// <summary>Only a local /admin path: never an open redirect.</summary>
    private string Target() =>
        ReturnUrl is { } url && Url.IsLocalUrl(url) && url.StartsWith("/admin", StringComparison.Ordinal) ? url : "/admin";
}
