using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Backfills;

namespace Scheduler.Pages.Admin.Dags;

/// <summary>
/// A DAG's backfills: a date-range form whose first submit shows the dry run (the exact
/// dates), a second submit of the same values starts it; then the progress list.
/// Every action is the API's own request, so validation and limits are the same.
/// </summary>
internal sealed class DagBackfillModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string Name { get; set; } = "";
    [BindProperty] public DateTimeOffset? From { get; set; }
    [BindProperty] public DateTimeOffset? To { get; set; }
    [BindProperty] public string Reprocess { get; set; } = "missing";
    [BindProperty] public int MaxActiveRuns { get; set; } = 10;

    public StartBackfill.DryRun? Preview { get; private set; }
    public Page<BackfillInfo> Backfills { get; private set; } = new([], null);

    public async Task<IActionResult> OnGetAsync()
    {
        if (await HiddenDagAsync())
            return NotFound();
        Backfills = await Sender.Send(new ListBackfills.Query(Name, 50, null), HttpContext.RequestAborted);
        return Page();
    }

    /// <summary>Takes the DAG's team for the page's actions; true when the user may not see the DAG (404, as in the API).</summary>
    private async Task<bool> HiddenDagAsync()
    {
        await UseDagTeamAsync(Name);
        return Hidden(ObjectTeam);
    }

    /// <summary>The dry run: shows the dates and the button that starts exactly this backfill.</summary>
    public async Task<IActionResult> OnPostPreviewAsync()
    {
        if (await HiddenDagAsync())
            return NotFound();
        if (!CanOperate)
            return Forbid();
        StartBackfill.Result? result = null;
        if (await TrySendAsync(async () => result = await Sender.Send(Command(dryRun: true), HttpContext.RequestAborted)) && result is { DagFound: false })
            return NotFound();
        Preview = result?.Dates;
        return await OnGetAsync();
    }

    public async Task<IActionResult> OnPostStartAsync()
    {
        if (await HiddenDagAsync())
            return NotFound();
        if (!CanOperate)
            return Forbid();
        StartBackfill.Result? result = null;
        if (!await TrySendAsync(async () => result = await Sender.Send(Command(dryRun: false), HttpContext.RequestAborted)))
            return await OnGetAsync();
        if (result is not { DagFound: true, Backfill: { } backfill })
            return NotFound();
        Flash = $"Started backfill {backfill.Id}: {backfill.Created} run(s).";
        return Redirect($"/admin/dags/{Uri.EscapeDataString(Name)}/backfill");
    }

    public async Task<IActionResult> OnPostCancelAsync(long id)
    {
        // The backfill must be this DAG's: the DAG's team decides (as the API's backfill gate).
        if (await HiddenDagAsync() || (await Sender.Send(new GetBackfill.Query(id), HttpContext.RequestAborted))?.DagName != Name)
            return NotFound();
        if (!CanOperate)
            return Forbid();
        await Sender.Send(new CancelBackfill.Command(id), HttpContext.RequestAborted);
        Flash = $"Cancelled backfill {id}.";
        return Redirect($"/admin/dags/{Uri.EscapeDataString(Name)}/backfill");
    }

    private StartBackfill.Command Command(bool dryRun) =>
        new(Name, From, To, Reprocess, MaxActiveRuns, dryRun, User.Identity?.Name);
}
