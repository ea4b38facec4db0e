using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Access;

namespace Scheduler.Pages.Admin;

internal sealed class LoginModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Username { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    public bool Failed { get; private set; }

    public IActionResult OnGet() => User.Identity?.IsAuthenticated == true ? LocalRedirect(Target()) : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        var user = await Sender.Send(new SignInUser.Query(Username, Password), HttpContext.RequestAborted);
        if (user is null)
        {
            Failed = true;
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        await HttpContext.SignInAsync(AdminCookie.Scheme, AdminCookie.Principal(user.Id, user.Username, user.Role, user.SecurityStamp));
        return LocalRedirect(Target());
    }

    /// <summary>Only a local /admin path: never an open redirect.</summary>
    private string Target() =>
        ReturnUrl is { } url && Url.IsLocalUrl(url) && url.StartsWith("/admin", StringComparison.Ordinal) ? url : "/admin";
}
