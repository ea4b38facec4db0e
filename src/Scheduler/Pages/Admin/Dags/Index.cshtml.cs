using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags;
using Scheduler.Modules.Dags.Git;
using Scheduler.Modules.Runs;

namespace Scheduler.Pages.Admin.Dags;

/// <summary>A page of DAGs (keyset-paged) and each one's last runs: two queries per page, never one per row.</summary>
internal sealed class DagsModel : AdminPageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public string? Tag { get; set; }
    [BindProperty(SupportsGet = true)] public bool? Paused { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<DagSummary> Dags { get; private set; } = new([], null);
    /// <summary>DAG files from git that failed to import (their DAGs keep their last good version).</summary>
    public IReadOnlyList<ListImportErrors.Info> ImportErrors { get; private set; } = [];
    public IReadOnlyDictionary<string, IReadOnlyList<RecentRunsByDag.Run>> Recent { get; private set; } = new Dictionary<string, IReadOnlyList<RecentRunsByDag.Run>>();

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await TrySendAsync(async () => Dags = await Sender.Send(new ListDags.Query(PageSize, Cursor, Tag, Paused, Q, VisibleTeams()), HttpContext.RequestAborted)))
        {
            FlashError = ErrorText();
            return Redirect("/admin/dags");
        }
        Recent = await Sender.Send(new RecentRunsByDag.Query(Dags.Items.Select(d => d.Name).ToList(), 12), HttpContext.RequestAborted);
        if (IsGlobal)
            ImportErrors = (await Sender.Send(new ListImportErrors.Query(), HttpContext.RequestAborted)).Items;
        return Page();
    }
}

/// <summary>The pause and trigger actions; <paramref name="Params"/>: inputs from the DAG's params_schema (detail page only).</summary>
internal sealed record DagActionsView(string Name, bool Paused, IReadOnlyList<ParamsForm.Field>? Params = null);
