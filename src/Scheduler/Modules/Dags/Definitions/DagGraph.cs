namespace Scheduler.Modules.Dags.Definitions;

/// <summary>
/// Graph checks over task ids. Linear in tasks + edges and iterative, so a 10,000-task
/// chain neither takes quadratic time nor overflows the stack.
/// </summary>
internal static class DagGraph
{
    /// <summary>
    /// Returns one cycle as a path that starts and ends at the same task
    /// (<c>a -> b -> c -> a</c>), or null when the graph is acyclic.
    /// Edges point from a task to what it depends on; unknown ids are ignored here.
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyDictionary<string, IReadOnlyList<string>> dependsOn)
    {
        // Kahn's algorithm on the reversed view: what is left after peeling off every task
        // whose dependencies are all peeled contains every cycle.
        var remainingDeps = new Dictionary<string, int>(dependsOn.Count, StringComparer.Ordinal);
        var dependents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (task, deps) in dependsOn)
        {
            var known = deps.Where(dependsOn.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
            remainingDeps[task] = known.Count;
            foreach (var dep in known)
            {
                if (!dependents.TryGetValue(dep, out var list))
                    dependents[dep] = list = [];
                list.Add(task);
            }
        }
        var ready = new Queue<string>(remainingDeps.Where(kv => kv.Value == 0).Select(kv => kv.Key));
        while (ready.Count > 0)
        {
            var done = ready.Dequeue();
            remainingDeps.Remove(done);
            if (!dependents.TryGetValue(done, out var list))
                continue;
            foreach (var dependent in list)
                if (--remainingDeps[dependent] == 0)
                    ready.Enqueue(dependent);
        }
        if (remainingDeps.Count == 0)
            return null;

        // Every remaining task has a remaining dependency, so walking dependencies from any
        // of them must revisit a task: the walk from that task onwards is a cycle.
        var start = dependsOn.Keys.First(remainingDeps.ContainsKey);
        var seenAt = new Dictionary<string, int>(StringComparer.Ordinal);
        var walk = new List<string>();
        var current = start;
        while (!seenAt.ContainsKey(current))
        {
            seenAt[current] = walk.Count;
            walk.Add(current);
            current = dependsOn[current].First(remainingDeps.ContainsKey);
        }
        // Reported in execution order (dependency first), as people draw pipelines.
        var cycle = walk.Skip(seenAt[current]).Reverse().ToList();
        // Start at the task declared first, so the same cycle is always reported the same way.
        var order = dependsOn.Keys.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        var first = cycle.IndexOf(cycle.MinBy(id => order[id])!);
        cycle = [.. cycle.Skip(first), .. cycle.Take(first)];
        cycle.Add(cycle[0]);
        return cycle;
    }
}
