using Scheduler.Infrastructure.Auth;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Notifications.Monitors;

namespace Scheduler.Pages.Admin;

/// <summary>Monitors of external jobs: their state, and one monitor's ping history.</summary>
internal sealed class MonitorsModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Name { get; set; }
    [BindProperty(SupportsGet = true)] public string? State { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<MonitorResponses.Info> Monitors { get; private set; } = new([], null);
    public MonitorResponses.Info? Selected { get; private set; }
    public Page<ListMonitorPings.Ping> Pings { get; private set; } = new([], null);

    public async Task<IActionResult> OnGetAsync()
    {
        var ct = HttpContext.RequestAborted;
        if (Name is not null)
        {
            Selected = await Sender.Send(new GetMonitor.Query(Name), ct);
            if (Selected is null || Hidden(Selected.Team))
                return NotFound();
            ObjectTeam = Selected.Team;
            if (!await TrySendAsync(async () => Pings = await Sender.Send(new ListMonitorPings.Query(Name, 50, Cursor), ct) ?? new([], null)))
            {
                FlashError = ErrorText();
                return Redirect($"/admin/monitors/{Name}");
            }
            return Page();
        }
        var state = State is "new" or "up" or "running" or "late" or "failed" or "paused" ? State : null;
        if (!await TrySendAsync(async () => Monitors = await Sender.Send(new ListMonitors.Query(50, Cursor, state, VisibleTeams()), ct)))
        {
            FlashError = ErrorText();
            return Redirect("/admin/monitors");
        }
        return Page();
    }

    public async Task<IActionResult> OnPostPauseAsync(string name, bool paused)
    {
        if (!TeamAccess.Of(User).MayTry(Roles.Operator))
            return Forbid();
        var monitor = await Sender.Send(new GetMonitor.Query(name ?? ""), HttpContext.RequestAborted);
        if (Refusal(monitor is not null, monitor?.Team, Roles.Operator) is { } refused)
            return refused;
        if (await Sender.Send(new PauseMonitor.Command(name!, paused), HttpContext.RequestAborted) is null)
            return NotFound();
        Flash = paused ? $"Monitor '{name}' paused." : $"Monitor '{name}' expects pings again.";
        return Back("/admin/monitors");
    }
}
