using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Json;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Dags;
using Scheduler.Modules.Runs;

namespace Scheduler.Pages.Admin.Dags;

/// <summary>
/// One DAG: graph (coloured by a chosen run), grid (last runs × a page of tasks, one query),
/// charts of the last runs (duration, landing against due time, tries), next fire times, definition with version history and diff; pause and trigger actions.
/// </summary>
internal sealed class DagDetailModel : AdminPageModel
{
    public const int GraphMaxTasks = 300;
    public const int GridRuns = 25;
    public const int GridTaskPage = 500;

    public static readonly JsonSerializerOptions Indented = new(JsonConventions.Options) { WriteIndented = true };

    [BindProperty(SupportsGet = true)] public string Name { get; set; } = "";
    [BindProperty(SupportsGet = true)] public long? Run { get; set; }
    [BindProperty(SupportsGet = true)] public int Tp { get; set; }
    [BindProperty(SupportsGet = true)] public int? From { get; set; }
    [BindProperty(SupportsGet = true)] public int? To { get; set; }

    public DagDetails Dag { get; private set; } = null!;
    public GraphLayout Layout { get; private set; } = null!;
    public IReadOnlyList<string> TaskOrder { get; private set; } = [];
    public bool ShowGraph => TaskOrder.Count <= GraphMaxTasks;
    public RunDetails? GraphRun { get; private set; }
    public IReadOnlyDictionary<string, string> GraphStates { get; private set; } = new Dictionary<string, string>();
    public RunGrid.Result Grid { get; private set; } = new([], new Dictionary<(long, string), string>());
    public IReadOnlyList<string> GridTasks { get; private set; } = [];
    public int GridPages { get; private set; }
    /// <summary>The next fire times, skipped ones (calendar, holiday) and held ones (maintenance window) marked with why.</summary>
    public IReadOnlyList<GetDagSchedule.FireInfo> NextFires { get; private set; } = [];
    public IReadOnlyList<RunFigures.Run> Figures { get; private set; } = [];
    public Page<ListDagVersions.VersionInfo> Versions { get; private set; } = new([], null);
    /// <summary>The git commits of the two versions compared, when they came from git.</summary>
    public (DagSource? From, DagSource? To)? DiffSources { get; private set; }
    public string DefinitionJson { get; private set; } = "";
    public IReadOnlyList<TextDiff.Line>? Diff { get; private set; }
    /// <summary>The assets this DAG is scheduled on, each with the DAG tasks that produce it and its newest event.</summary>
    public IReadOnlyList<(string Uri, IReadOnlyList<Scheduler.Modules.Dags.Contracts.AssetReference> Producers, Scheduler.Modules.Runs.Assets.AssetEventInfo? Last)> UpstreamAssets { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var ct = HttpContext.RequestAborted;
        if (await Sender.Send(new GetDag.Query(Name), ct) is not { } dag || Hidden(dag.Team))
            return NotFound();
        Dag = dag;
        ObjectTeam = dag.Team;
        var tasks = dag.Definition.Tasks ?? [];
        Layout = GraphLayout.Build(tasks.Select(t => (t.Id ?? "", (IReadOnlyList<string>)(t.DependsOn ?? []))).ToList());
        TaskOrder = Layout.Order.ToList();
        GridPages = Math.Max(1, (TaskOrder.Count + GridTaskPage - 1) / GridTaskPage);
        Tp = Math.Clamp(Tp, 0, GridPages - 1);
        GridTasks = TaskOrder.Skip(Tp * GridTaskPage).Take(GridTaskPage).ToList();
        Grid = await Sender.Send(new RunGrid.Query(Name, GridRuns, GridPages == 1 ? null : GridTasks), ct);

        if (ShowGraph && (Run ?? Grid.Runs.LastOrDefault()?.RunId) is { } runId
            && await Sender.Send(new GetRun.Query(runId), ct) is { } run && run.DagName == Name)
        {
            GraphRun = run;
            GraphStates = run.Tasks.Where(t => t.MapIndex is null).ToDictionary(t => t.TaskId, t => t.State);
        }
        NextFires = (await Sender.Send(new GetDagSchedule.Query(Name, 5, null), ct))?.Fires ?? [];
        if (dag.Definition.ScheduleOnAssets is { Count: > 0 } upstream)
        {
            var producers = (await Sender.Send(new Scheduler.Modules.Dags.Contracts.GetAssetReferences(), ct)).Where(r => r.IsProducer).ToLookup(r => r.Uri, StringComparer.Ordinal);
            var assets = new List<(string, IReadOnlyList<Scheduler.Modules.Dags.Contracts.AssetReference>, Scheduler.Modules.Runs.Assets.AssetEventInfo?)>();
            foreach (var uri in upstream)
                assets.Add((uri, producers[uri].ToList(), (await Sender.Send(new Scheduler.Modules.Runs.Assets.ListAssetEvents.Query(uri, 1, null), ct)).Items.FirstOrDefault()));
            UpstreamAssets = assets;
        }
        Figures = await Sender.Send(new RunFigures.Query(Name, GridRuns), ct);
        Versions = await Sender.Send(new ListDagVersions.Query(Name, 50, null), ct) ?? new([], null);
        DefinitionJson = JsonSerializer.Serialize(dag.Definition, Indented);
        if (From is { } from && To is { } to
            && await Sender.Send(new ListDagVersions.GetOne(Name, from), ct) is { } a
            && await Sender.Send(new ListDagVersions.GetOne(Name, to), ct) is { } b)
        {
            Diff = TextDiff.Compare(JsonSerializer.Serialize(a.Definition, Indented), JsonSerializer.Serialize(b.Definition, Indented));
            DiffSources = (a.Source, b.Source);
        }
        return Page();
    }

    public string InZone(DateTimeOffset instant)
    {
        try
        {
            return TimeZoneInfo.ConvertTime(instant, TimeZoneInfo.FindSystemTimeZoneById(Dag.Timezone)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (TimeZoneNotFoundException)
        {
            return "";
        }
    }

    public async Task<IActionResult> OnPostPauseAsync(bool paused)
    {
        await UseDagTeamAsync(Name);
        if (!CanOperate)
            return Forbid();
        if (await Sender.Send(new PauseDag.Command(Name, paused), HttpContext.RequestAborted) is null)
            return NotFound();
        Flash = paused ? $"Paused {Name}." : $"Unpaused {Name}.";
        return Back($"/admin/dags/{Uri.EscapeDataString(Name)}");
    }

    public async Task<IActionResult> OnPostTriggerAsync(string? conf)
    {
        await UseDagTeamAsync(Name);
        if (!CanOperate)
            return Forbid();
        JsonObject? parsed = null;
        if (conf is not null && JsonText.FirstRefused(conf) is { } refused)
        {
            FlashError = $"conf: {refused.Path}: {refused.Message}";
            return Back($"/admin/dags/{Uri.EscapeDataString(Name)}");
        }
        try
        {
            var node = string.IsNullOrWhiteSpace(conf) ? new JsonObject() : JsonNode.Parse(conf);
            parsed = node as JsonObject;
        }
        catch (JsonException e)
        {
            FlashError = $"conf: invalid JSON ({e.Message})";
            return Back($"/admin/dags/{Uri.EscapeDataString(Name)}");
        }
        if (parsed is null)
        {
            FlashError = "conf: must be a JSON object.";
            return Back($"/admin/dags/{Uri.EscapeDataString(Name)}");
        }
        if (await Sender.Send(new GetDag.Query(Name), HttpContext.RequestAborted) is not { } dag)
            return NotFound();
        if (ParamsForm.Merge(ParamsForm.Build(dag.Definition.ParamsSchema, dag.Definition.Params), Request.Form, parsed) is { } formError)
        {
            FlashError = formError;
            return Back($"/admin/dags/{Uri.EscapeDataString(Name)}");
        }
        TriggerDagRun.Result? result = null;
        if (!await TrySendAsync(async () => result = await Sender.Send(new TriggerDagRun.Command(Name, parsed, null, User.Identity?.Name), HttpContext.RequestAborted)))
        {
            FlashError = ErrorText();
            return Back($"/admin/dags/{Uri.EscapeDataString(Name)}");
        }
        if (result is not { DagFound: true })
            return NotFound();
        if (result.RunId is not { } runId)
        {
            FlashError = "A run for this logical date exists already; try again.";
            return Back($"/admin/dags/{Uri.EscapeDataString(Name)}");
        }
        Flash = $"Triggered run {runId}.";
        return Redirect($"/admin/runs/{runId}");
    }
}
