using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit;

namespace Scheduler.Pages.Admin;

/// <summary>Admins only: the audit trail with the API's filters (<c>GET /api/v1/audit</c>), newest first.</summary>
internal sealed class AuditModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Actor { get; set; }
    [BindProperty(SupportsGet = true)] public string? Action { get; set; }
    [BindProperty(SupportsGet = true)] public string? Target { get; set; }
    [BindProperty(SupportsGet = true)] public DateTimeOffset? Since { get; set; }
    [BindProperty(SupportsGet = true)] public DateTimeOffset? Until { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<ListAudit.Item> Entries { get; private set; } = new([], null);

    public async Task OnGetAsync()
    {
        if (!await TrySendAsync(async () => Entries = await Sender.Send(
                new ListAudit.Query(Blank(Actor), Blank(Action), Blank(Target), Since, Until, 50, Cursor), HttpContext.RequestAborted)))
            Cursor = null;
    }

    /// <summary>The query string of this filter, for the next page's link.</summary>
    public string FilterQuery() => string.Join("&", new (string Name, string? Value)[]
        {
            ("actor", Actor), ("action", Action), ("target", Target), ("since", Ui.Iso(Since)), ("until", Ui.Iso(Until)),
        }.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)));
}
