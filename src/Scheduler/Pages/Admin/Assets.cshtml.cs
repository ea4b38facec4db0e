using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Assets;

namespace Scheduler.Pages.Admin;

/// <summary>
/// The assets: a drawing of which DAG feeds which through them (producer DAG → asset →
/// consumer DAG, laid out server-side by <see cref="GraphLayout"/> as the DAG graph is), and
/// the list with producers, consumers and the newest event. A page of assets at a time.
/// </summary>
internal sealed class AssetsModel : AdminPageModel
{
    public const int PageSize = 200;
    public const string DagPrefix = "dag:", AssetPrefix = "asset:";

    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<AssetInfo> Assets { get; private set; } = new([], null);
    public GraphLayout Layout { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await TrySendAsync(async () => Assets = await Sender.Send(new ListAssets.Query(PageSize, Cursor), HttpContext.RequestAborted)))
        {
            FlashError = ErrorText();
            return Redirect("/admin/assets");
        }
        Layout = Build(Assets.Items);
        return Page();
    }

    /// <summary>Each asset depends on the DAGs that produce it, each consumer DAG on its assets.</summary>
    public static GraphLayout Build(IReadOnlyList<AssetInfo> assets)
    {
        var nodes = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string> Node(string id) => nodes.TryGetValue(id, out var deps) ? deps : nodes[id] = [];
        foreach (var asset in assets)
        {
            var id = AssetPrefix + asset.Uri;
            var upstream = Node(id);
            foreach (var producer in asset.Producers.Select(p => DagPrefix + p.Dag).Distinct(StringComparer.Ordinal))
            {
                Node(producer);
                upstream.Add(producer);
            }
            foreach (var consumer in asset.Consumers)
                Node(DagPrefix + consumer.Dag).Add(id);
        }
        return GraphLayout.Build(nodes.Select(n => (n.Key, (IReadOnlyList<string>)n.Value)).ToList());
    }

    public static string Label(string nodeId)
    {
        var text = nodeId.StartsWith(DagPrefix, StringComparison.Ordinal) ? nodeId[DagPrefix.Length..] : nodeId[AssetPrefix.Length..];
        return text.Length > 24 ? text[..23] + "…" : text;
    }
}
