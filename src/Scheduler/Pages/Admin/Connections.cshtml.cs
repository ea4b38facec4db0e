using Scheduler.Infrastructure.Auth;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Workers.Connections;

namespace Scheduler.Pages.Admin;

/// <summary>Admins only (like the API): list, save (write-only secret), delete.</summary>
internal sealed class ConnectionsModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<ConnectionResponses.Info> Connections { get; private set; } = new([], null);

    public async Task OnGetAsync() => await Load();

    private async Task Load()
    {
        if (!await TrySendAsync(async () => Connections = await Sender.Send(new ListConnections.Query(50, Cursor, VisibleTeams(Roles.Admin)), HttpContext.RequestAborted)))
            Cursor = null;
    }

    public async Task<IActionResult> OnPostSaveAsync(string? name, string? kind, string? description, string? connectionString)
    {
        if (!IsAdmin)
            return Forbid();
        if (await TrySendAsync(() => Sender.Send(new SaveConnection.Command(name, kind, string.IsNullOrWhiteSpace(description) ? null : description, connectionString, Replace: true), HttpContext.RequestAborted).AsTask()))
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
        if (!IsAdmin)
            return Forbid();
        Flash = await Sender.Send(new DeleteConnection.Command(name), HttpContext.RequestAborted) ? $"Deleted connection {name}." : null;
        return Redirect("/admin/connections");
    }
}
