namespace Scheduler.Modules.Runs.Engine;

/// <summary>A queued task of a limited pool or of a DAG with max_active_tasks.</summary>
internal sealed record ConstrainedCandidate(long Id, string Pool, long DagId, int? MaxActiveTasks);

/// <summary>Which constrained tasks may be claimed, given the free slots.</summary>
internal static class ConstrainedSlots
{
    /// <summary>
    /// Takes candidates in order (priority, then queue time) up to <paramref name="max"/>,
    /// skipping any whose pool has no free slot or whose DAG runs max_active_tasks already.
    /// A pool nobody defined has no cap (a typo does not hold the task hostage); a defined
    /// pool with null slots is uncapped too.
    /// </summary>
    /// <param name="poolFree">Free slots per defined pool (null: no cap).</param>
    /// <param name="dagRunning">Running tasks per DAG; absent means none.</param>
    public static List<long> Choose(IReadOnlyList<ConstrainedCandidate> candidates, IReadOnlyDictionary<string, int?> poolFree, IReadOnlyDictionary<long, int> dagRunning, int max)
    {
        var free = new Dictionary<string, int?>(poolFree);
        var running = new Dictionary<long, int>(dagRunning);
        var chosen = new List<long>();
        foreach (var c in candidates)
        {
            if (chosen.Count >= max)
                break;
            var slots = free.GetValueOrDefault(c.Pool);
            if (slots is <= 0)
                continue;
            var active = running.GetValueOrDefault(c.DagId);
            if (c.MaxActiveTasks is { } cap && active >= cap)
                continue;
            chosen.Add(c.Id);
            if (slots is not null)
                free[c.Pool] = slots - 1;
            running[c.DagId] = active + 1;
        }
        return chosen;
    }
}
