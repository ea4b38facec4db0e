namespace Scheduler.Modules.Runs.Engine;

/// <summary>Which new runs start at once and which wait as queued.</summary>
internal static class RunStartPolicy
{
    /// <summary>
    /// In the given order, a run starts while its DAG has fewer than its max_active_runs
    /// running (counting the runs started before it in this batch); the rest wait.
    /// </summary>
    /// <param name="running">Runs running now per DAG; absent means none.</param>
    public static bool[] Decide(IReadOnlyList<(long DagId, int MaxActiveRuns)> runs, IReadOnlyDictionary<long, int> running)
    {
        var active = new Dictionary<long, int>(running);
        var starts = new bool[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            var (dag, max) = runs[i];
            var count = active.GetValueOrDefault(dag);
            starts[i] = count < max;
            if (starts[i])
                active[dag] = count + 1;
        }
        return starts;
    }
}
