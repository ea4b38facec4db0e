using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Access;

namespace Scheduler.Pages.Admin;

/// <summary>Admins only: list, create (the key is shown once, on the page answering the POST), revoke.</summary>
internal sealed class ApiKeysModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<ListApiKeys.KeyInfo> Keys { get; private set; } = new([], null);
    public string? NewKey { get; private set; }

    public async Task OnGetAsync() => await Load();

    private async Task Load()
    {
        if (!await TrySendAsync(async () => Keys = await Sender.Send(new ListApiKeys.Query(50, Cursor), HttpContext.RequestAborted)))
            Cursor = null;
    }

    public async Task<IActionResult> OnPostCreateAsync(string? name, string? role)
    {
        if (!IsAdmin)
            return Forbid();
        // Rendered directly, not redirected: the secret must not travel in TempData or a URL.
        if (!await TrySendAsync(async () => NewKey = (await Sender.Send(new CreateApiKey.Command(name, role, null, User.Identity?.Name, AdminCookie.UserId(User)), HttpContext.RequestAborted)).Key))
            Response.StatusCode = StatusCodes.Status400BadRequest;
        Response.Headers.CacheControl = "no-store";
        await Load();
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(long id)
    {
        if (!IsAdmin)
            return Forbid();
        Flash = await Sender.Send(new RevokeApiKey.Command(id), HttpContext.RequestAborted) ? $"Revoked key {id}." : null;
        return Redirect("/admin/api-keys");
    }
}
