using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Pages.Admin;

/// <summary>Sign-out is a POST (with the antiforgery token), so a link on another site cannot sign anyone out.</summary>
internal sealed class LogoutModel : AdminPageModel
{
    public IActionResult OnGet() => Redirect("/admin");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(AdminCookie.Scheme);
        return Redirect("/admin/login");
    }
}
