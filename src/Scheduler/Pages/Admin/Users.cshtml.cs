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

    /// <summary>The role select's value for team roles only (an empty form value binds as null: unchanged).</summary>
    public const string NoGlobalRole = "none";

    /// <param name="role">A global role, or <see cref="NoGlobalRole"/> for team roles only.</param>
    /// <param name="roles">The team roles as <c>team:role</c>, separated by commas or spaces; not posted: unchanged.</param>
    public async Task<IActionResult> OnPostUpdateAsync(long id, string? role, string? password, string? roles)
    {
        if (!IsAdmin)
            return Forbid();
        (UserResponses.Change Change, UserResponses.UserInfo? User) result = default;
        // An emptied field binds as null: whether it was posted tells "no team roles" from "unchanged".
        roles = Request.HasFormContentType && Request.Form.ContainsKey("roles") ? roles ?? "" : null;
        var teamRoles = ParseTeamRoles(roles);
        if (teamRoles is null && roles is not null)
            Errors.Add(new FieldError("roles", $"'{roles}' is not a list of <team>:<role> ({string.Join(", ", Roles.All)}), separated by commas."));
        if (Errors.Count > 0 || !await TrySendAsync(async () => result = await Sender.Send(
                new UpdateUser.Command(id, role == NoGlobalRole ? "" : role, string.IsNullOrEmpty(password) ? null : password, roles is null ? null : teamRoles), HttpContext.RequestAborted)))
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

    /// <summary>The team roles typed on the page (the highest per team), or null when an entry is not <c>team:role</c>.</summary>
    internal static IReadOnlyDictionary<string, string>? ParseTeamRoles(string? text)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in (text ?? "").Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (Scheduler.Modules.Access.Sso.RoleMapping.ParseGrant(entry) is not { Team: { } team } grant)
                return null;
            if (Roles.Rank(grant.Role) > Roles.Rank(map.GetValueOrDefault(team)))
                map[team] = grant.Role;
        }
        return map;
    }

    /// <summary>The team roles as the page shows them: <c>team:role</c>, comma-separated.</summary>
    public static string TeamRolesText(IReadOnlyDictionary<string, string>? roles) =>
        string.Join(", ", (roles ?? new Dictionary<string, string>()).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Key + ":" + t.Value));

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
