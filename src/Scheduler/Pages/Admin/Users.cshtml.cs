using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Caching.Memory;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Access;

namespace Scheduler.Pages.Admin;

/// <summary>Admins only: list, add, change role or password, delete (not yourself).</summary>
internal sealed class UsersModel(IMemoryCache cache) : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<UserResponses.UserInfo> Users { get; private set; } = new([], null);

    public async Task OnGetAsync() => await Load();

    private async Task Load()
    {
        if (!await TrySendAsync(async () => Users = await Sender.Send(new ListUsers.Query(50, Cursor), HttpContext.RequestAborted)))
            Cursor = null;
    }

    public async Task<IActionResult> OnPostCreateAsync(string? username, string? role, string? password)
    {
        if (!IsAdmin)
            return Forbid();
        UserResponses.UserInfo? created = null;
        if (await TrySendAsync(async () => created = await Sender.Send(new CreateUser.Command(username, role, password, User.Identity?.Name), HttpContext.RequestAborted)))
        {
            if (created is not null)
            {
                Flash = $"Added user {created.Username} ({created.Role}).";
                return Redirect("/admin/users");
            }
            Errors.Add(new FieldError("username", $"a user named '{username}' already exists."));
        }
        Response.StatusCode = StatusCodes.Status400BadRequest;
        await Load();
        return Page();
    }

    public async Task<IActionResult> OnPostUpdateAsync(long id, string? role, string? password)
    {
        if (!IsAdmin)
            return Forbid();
        UserResponses.UserInfo? updated = null;
        if (!await TrySendAsync(async () => updated = await Sender.Send(new UpdateUser.Command(id, role, string.IsNullOrEmpty(password) ? null : password), HttpContext.RequestAborted)))
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await Load();
            return Page();
        }
        if (updated is null)
            return NotFound();
        AdminCookieSetup.Forget(cache, id);
        Flash = $"Saved user {updated.Username}.";
        return Redirect("/admin/users");
    }

    public async Task<IActionResult> OnPostDeleteAsync(long id)
    {
        if (!IsAdmin)
            return Forbid();
        if (User.FindFirst(Scheduler.Infrastructure.Auth.AdminCookie.UserIdClaim)?.Value == id.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            FlashError = "You cannot delete yourself.";
            return Redirect("/admin/users");
        }
        if (!await Sender.Send(new DeleteUser.Command(id), HttpContext.RequestAborted))
            return NotFound();
        AdminCookieSetup.Forget(cache, id);
        Flash = "Deleted the user.";
        return Redirect("/admin/users");
    }
}
