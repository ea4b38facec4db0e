namespace Scheduler.Modules.Runs.Engine;

/// <summary>Which new runs start at once and which wait as queued.</summary>
internal static class RunStartPolicy
{
    /// <summary>
    /// Oldest logical date first, a run starts while its DAG has fewer than its max_active_runs
    /// running (counting the runs of this batch started before it); the rest wait. A DAG with
    /// runs already waiting starts none of the new ones: they join the queue, which is started
    /// oldest first, so a trigger that lands just after a run ended never jumps ahead of a run
    /// that was waiting for that end.
    /// </summary>
    /// <param name="running">Runs running now per DAG; absent means none.</param>
    /// <param name="waiting">DAGs with queued runs now.</param>
    public static bool[] Decide(IReadOnlyList<(long DagId, int MaxActiveRuns, DateTimeOffset LogicalDate)> runs,
        IReadOnlyDictionary<long, int> running, IReadOnlySet<long> waiting)
    {
        var active = new Dictionary<long, int>(running);
        var starts = new bool[runs.Count];
        foreach (var i in Enumerable.Range(0, runs.Count).OrderBy(i => runs[i].LogicalDate))
        {
            var (dag, max, _) = runs[i];
            var count = active.GetValueOrDefault(dag);
            starts[i] = count < max && !waiting.Contains(dag);
            if (starts[i])
                active[dag] = count + 1;
        }
        return starts;
    }
}
