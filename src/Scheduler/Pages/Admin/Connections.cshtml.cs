using Scheduler.Infrastructure.Auth;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Workers.Connections;

namespace Scheduler.Pages.Admin;

/// <summary>Admins only (like the API; team admins: their teams' connections): list, save (write-only secret), delete.</summary>
internal sealed class ConnectionsModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<ConnectionResponses.Info> Connections { get; private set; } = new([], null);

    public async Task OnGetAsync() => await Load();

    private async Task Load()
    {
        await LoadAdminTeamsAsync();
        if (!await TrySendAsync(async () => Connections = await Sender.Send(new ListConnections.Query(50, Cursor, VisibleTeams(Roles.Admin)), HttpContext.RequestAborted)))
            Cursor = null;
    }

    /// <summary>What the admin typed (never the connection string), shown again when it was refused.</summary>
    public (string? Name, string? Description, string? Team) Entered { get; private set; }

    public async Task<IActionResult> OnPostSaveAsync(string? name, string? kind, string? description, string? connectionString, string? team)
    {
        team = Blank(team);
        Entered = (name, description, team);
        var current = string.IsNullOrEmpty(name) ? null : await Sender.Send(new GetConnection.Query(name), HttpContext.RequestAborted);
        if (MayWrite("connection", current is not null, current?.Team, team)
            && await TrySendAsync(() => Sender.Send(new SaveConnection.Command(name, kind, Blank(description), connectionString, Replace: true, team), HttpContext.RequestAborted).AsTask()))
        {
            Flash = $"Saved connection {name}.";
            return Redirect("/admin/connections");
        }
        Response.StatusCode = StatusCodes.Status400BadRequest;
        await Load();
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string name)
    {
        var current = await Sender.Send(new GetConnection.Query(name ?? ""), HttpContext.RequestAborted);
        if (Refusal(current is not null, current?.Team) is { } refused)
            return refused;
        Flash = await Sender.Send(new DeleteConnection.Command(name!), HttpContext.RequestAborted) ? $"Deleted connection {name}." : null;
        return Redirect("/admin/connections");
    }
}
