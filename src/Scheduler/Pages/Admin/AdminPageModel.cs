using System.Security.Claims;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Pages.Admin;

/// <summary>What every admin page shares: Mediator, the signed-in role, flash messages, and validation errors by field path.</summary>
internal abstract class AdminPageModel : PageModel
{
    private ISender? _sender;

    protected ISender Sender => _sender ??= HttpContext.RequestServices.GetRequiredService<ISender>();

    public string Role => User.FindFirstValue(ClaimTypes.Role) ?? "";

    /// <summary>The team of the DAG (or run) the page shows, so its actions follow the user's role there (TeamAccess).</summary>
    protected string? ObjectTeam { get; set; }

    public bool CanOperate => Allowed(Roles.Operator);

    /// <summary>The user holds a global role (else team roles only: the pages show their teams' objects alone).</summary>
    public bool IsGlobal => TeamAccess.Of(User).GlobalRole is not null;

    /// <summary>The teams whose objects the page's lists show (<see cref="TeamAccess.VisibleTeams"/>), null: all. Pass it to the list query as the REST list does.</summary>
    protected IReadOnlyList<string>? VisibleTeams(string needed = Roles.Viewer) => TeamAccess.Of(User).VisibleTeams(needed);

    /// <summary>The DAGs whose runs the page may count or list, null: all (a global viewer).</summary>
    protected async Task<IReadOnlyList<string>?> VisibleDagNamesAsync() =>
        VisibleTeams() is { } teams ? await Sender.Send(new Scheduler.Modules.Dags.Contracts.ListTeamDagNames(teams), HttpContext.RequestAborted) : null;

    /// <summary>The user may not see an object of <paramref name="team"/>: the page answers 404, as the REST API does.</summary>
    protected bool Hidden(string? team) => !TeamAccess.Of(User).CanSee(team);

    public bool IsAdmin => Allowed(Roles.Admin);

    /// <summary>The user may create, change or delete an object of <paramref name="team"/> (null: no team), as the API's team gates decide.</summary>
    public bool MayAdmin(string? team) => TeamAccess.Of(User).Can(team, Roles.Admin);

    /// <summary>
    /// An action on an object of a team (<paramref name="found"/>: it exists), decided as the API's team gates:
    /// 404 when it does not exist or the user may not see it, 403 when their role on it is below
    /// <paramref name="needed"/>, null when allowed.
    /// </summary>
    protected IActionResult? Refusal(bool found, string? team, string needed = Roles.Admin) =>
        !found || Hidden(team) ? NotFound() : TeamAccess.Of(User).Can(team, needed) ? null : Forbid();

    /// <summary>The user is admin globally or of some team: the page offers its add form (else its actions are 403 before any lookup, as the API's).</summary>
    public bool MayAdminSomewhere => MayAdmin(null) || TeamAccess.Of(User).TeamRoles.Values.Any(r => r == Roles.Admin);

    /// <summary>The teams a form's team field offers: those the user is admin of (a global admin: every team, the first 500).</summary>
    public IReadOnlyList<string> AdminTeams { get; private set; } = [];

    protected async Task LoadAdminTeamsAsync()
    {
        var access = TeamAccess.Of(User);
        AdminTeams = MayAdmin(null)
            ? (await Sender.Send(new Scheduler.Modules.Access.Teams.ListTeams.Query(500, null, null), HttpContext.RequestAborted)).Items.Select(t => t.Name).ToList()
            : access.TeamRoles.Where(r => r.Value == Roles.Admin).Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// A form's save of a <paramref name="kind"/> now owned by <paramref name="current"/> (<c>exists</c>) into
    /// <paramref name="team"/>, checked as the API's PUT is: admin on the team it has and on the team it gets.
    /// False with the reason in <see cref="Errors"/>.
    /// </summary>
    protected bool MayWrite(string kind, bool exists, string? current, string? team)
    {
        if (exists && !MayAdmin(current))
            Errors.Add(new FieldError("name", $"A {kind} of this name exists and belongs to a team you are not admin of."));
        else if (!MayAdmin(team))
            Errors.Add(new FieldError("team", team is null
                ? $"Only a global admin may save a {kind} without a team: choose a team you are admin of."
                : $"Your role in team '{team}' does not allow saving its objects (admin needed)."));
        else
            return true;
        return false;
    }

    protected static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    /// <summary>A message for the next page after a redirect (post/redirect/get).</summary>
    [TempData]
    public string? Flash { get; set; }

    [TempData]
    public string? FlashError { get; set; }

    public List<FieldError> Errors { get; } = [];

    /// <summary>The signed-in user's effective role on the page's object (<see cref="ObjectTeam"/>; none: the global role) reaches <paramref name="role"/>.</summary>
    protected bool Allowed(string role) => TeamAccess.Of(User).Can(ObjectTeam, role);

    /// <summary>Sets <see cref="ObjectTeam"/> to the team of <paramref name="dag"/> (before an action is checked).</summary>
    protected async Task UseDagTeamAsync(string dag) =>
        ObjectTeam = (await Sender.Send(new Scheduler.Modules.Dags.Contracts.GetDagTeams([dag]), HttpContext.RequestAborted)).GetValueOrDefault(dag);

    /// <summary>Runs a command; a validation failure becomes <see cref="Errors"/> (keyed like the API's problem documents).</summary>
    protected async Task<bool> TrySendAsync(Func<Task> action)
    {
        try
        {
            await action();
            return true;
        }
        catch (ValidationException e)
        {
            Errors.AddRange(e.Errors.Select(f => new FieldError(string.IsNullOrEmpty(f.PropertyName) ? "$" : f.PropertyName, f.ErrorMessage)));
            return false;
        }
    }

    protected string ErrorText() => string.Join("; ", Errors.Select(e => $"{e.Path}: {e.Message}"));

    protected RedirectResult Back(string fallback)
    {
        var referer = Request.Headers.Referer.ToString();
        return Redirect(Uri.TryCreate(referer, UriKind.Absolute, out var uri) && uri.Authority == Request.Host.Value && uri.AbsolutePath.StartsWith("/admin", StringComparison.Ordinal)
            ? uri.PathAndQuery : fallback);
    }
}

internal sealed record FieldError(string Path, string Message);

/// <summary>A form's team field (<c>Shared/_TeamField</c>): the teams the user may save into; <paramref name="AllowNone"/> (a global admin) also offers no team.</summary>
internal sealed record TeamField(IReadOnlyList<string> Teams, string? Value, bool AllowNone);
