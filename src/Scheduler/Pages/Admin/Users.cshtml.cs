using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Access;

namespace Scheduler.Pages.Admin;

/// <summary>Admins only: list, add, change role or password, delete (not yourself, nor the last admin).</summary>
internal sealed class UsersModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<UserResponses.UserInfo> Users { get; private set; } = new([], null);

    /// <summary>Why a change was refused (409), shown above the list.</summary>
    public string? Conflict { get; private set; }

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
        (UserResponses.Change Change, UserResponses.UserInfo? User) result = default;
        if (!await TrySendAsync(async () => result = await Sender.Send(new UpdateUser.Command(id, role, string.IsNullOrEmpty(password) ? null : password), HttpContext.RequestAborted)))
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await Load();
            return Page();
        }
        if (result.Change == UserResponses.Change.NotFound)
            return NotFound();
        if (result.Change == UserResponses.Change.LastAdmin)
            return await LastAdmin(result.User!.Username, "demoted");
        if (result.Change == UserResponses.Change.NotLocal)
            return await Refused($"{result.User!.Username} signs in with {result.User.Source}: a password cannot be set here.");
        // The change ended every session of the user, this one too when it was yours: sign in
        // again with the new stamp, so changing your own password does not sign you out.
        if (AdminCookie.UserId(User) == id && result.User is { } me)
            await HttpContext.SignInAsync(AdminCookie.Scheme, AdminCookie.Principal(me.Id, me.Username, me.Role, me.SecurityStamp, me.Roles));
        Flash = $"Saved user {result.User!.Username}.";
        return Redirect("/admin/users");
    }

    public async Task<IActionResult> OnPostDeleteAsync(long id)
    {
        if (!IsAdmin)
            return Forbid();
        if (AdminCookie.UserId(User) == id)
        {
            FlashError = "You cannot delete yourself.";
            return Redirect("/admin/users");
        }
        switch (await Sender.Send(new DeleteUser.Command(id), HttpContext.RequestAborted))
        {
            case UserResponses.Change.NotFound:
                return NotFound();
            case UserResponses.Change.LastAdmin:
                return await LastAdmin(null, "deleted");
        }
        Flash = "Deleted the user and revoked the API keys they created.";
        return Redirect("/admin/users");
    }

    /// <summary>409: the page again, saying why nothing changed.</summary>
    private async Task<IActionResult> LastAdmin(string? username, string verb)
    {
        return await Refused($"{username ?? "This user"} is the last admin and cannot be {verb}: make another user an admin first.");
    }

    private async Task<IActionResult> Refused(string why)
    {
        Conflict = why;
        Response.StatusCode = StatusCodes.Status409Conflict;
        await Load();
        return Page();
    }
}
