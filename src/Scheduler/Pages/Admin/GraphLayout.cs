namespace Scheduler.Pages.Admin;

/// <summary>
/// A layered (Sugiyama-style, simplified) layout of a DAG for the SVG graph: each task's
/// layer is its longest path from a root, so every edge points right; inside a layer tasks
/// are ordered by the mean position of their upstreams (one barycentre pass), which keeps
/// most edges short. Linear in tasks + edges.
/// </summary>
internal sealed class GraphLayout
{
    public const int NodeWidth = 170, NodeHeight = 34, ColumnGap = 60, RowGap = 14, Margin = 10;

    public sealed record Node(string Id, int Layer, int Row, double X, double Y);

    public required IReadOnlyList<Node> Nodes { get; init; }
    public required IReadOnlyList<(Node From, Node To)> Edges { get; init; }
    public double Width { get; init; }
    public double Height { get; init; }

    /// <summary>Tasks in topological order: by layer, then by their row in the layer (also the grid's row order).</summary>
    public IEnumerable<string> Order => Nodes.OrderBy(n => n.Layer).ThenBy(n => n.Row).Select(n => n.Id);

    /// <summary>A cubic curve from the right edge of the upstream to the left edge of the task.</summary>
    public static string EdgePath(Node from, Node to)
    {
        double x1 = from.X + NodeWidth, y1 = from.Y + NodeHeight / 2.0, x2 = to.X, y2 = to.Y + NodeHeight / 2.0, mx = (x1 + x2) / 2;
        return $"M{Ui.N(x1)},{Ui.N(y1)} C{Ui.N(mx)},{Ui.N(y1)} {Ui.N(mx)},{Ui.N(y2)} {Ui.N(x2)},{Ui.N(y2)}";
    }

    public static GraphLayout Build(IReadOnlyList<(string Id, IReadOnlyList<string> DependsOn)> tasks)
    {
        var index = tasks.Select((t, i) => (t.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);
        var layer = new int[tasks.Count];
        var state = new byte[tasks.Count]; // 0 new, 1 visiting, 2 done; a cycle (never stored) just stops

        int LayerOf(int i)
        {
            if (state[i] != 0)
                return layer[i];
            state[i] = 1;
            var stack = new Stack<(int Node, int Next)>();
            stack.Push((i, 0));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                var deps = tasks[node].DependsOn;
                if (next < deps.Count)
                {
                    stack.Push((node, next + 1));
                    if (index.TryGetValue(deps[next], out var d) && state[d] == 0)
                    {
                        state[d] = 1;
                        stack.Push((d, 0));
                    }
                    continue;
                }
                var l = 0;
                foreach (var dep in deps)
                    if (index.TryGetValue(dep, out var d) && state[d] == 2)
                        l = Math.Max(l, layer[d] + 1);
                layer[node] = l;
                state[node] = 2;
            }
            return layer[i];
        }

        for (var i = 0; i < tasks.Count; i++)
            LayerOf(i);

        var rows = new double[tasks.Count];
        var byLayer = Enumerable.Range(0, tasks.Count).GroupBy(i => layer[i]).OrderBy(g => g.Key);
        var rowOf = new int[tasks.Count];
        foreach (var group in byLayer)
        {
            var ordered = group.OrderBy(i =>
            {
                var ups = tasks[i].DependsOn.Where(index.ContainsKey).Select(d => (double)rowOf[index[d]]).ToList();
                return ups.Count == 0 ? i : ups.Average();
            }).ThenBy(i => i).ToList();
            for (var r = 0; r < ordered.Count; r++)
                rowOf[ordered[r]] = r;
        }
        var nodes = new Node[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
        {
            rows[i] = rowOf[i];
            nodes[i] = new Node(tasks[i].Id, layer[i], rowOf[i],
                Margin + layer[i] * (NodeWidth + ColumnGap), Margin + rowOf[i] * (NodeHeight + RowGap));
        }
        var edges = new List<(Node, Node)>();
        for (var i = 0; i < tasks.Count; i++)
            foreach (var dep in tasks[i].DependsOn)
                if (index.TryGetValue(dep, out var d))
                    edges.Add((nodes[d], nodes[i]));
        var layers = tasks.Count == 0 ? 0 : layer.Max() + 1;
        var maxRows = tasks.Count == 0 ? 0 : rowOf.Max() + 1;
        return new GraphLayout
        {
            Nodes = nodes,
            Edges = edges,
            Width = 2 * Margin + layers * (NodeWidth + ColumnGap) - ColumnGap,
            Height = 2 * Margin + maxRows * (NodeHeight + RowGap) - RowGap,
        };
    }
}
