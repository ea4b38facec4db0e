namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// The state decisions of dynamic task mapping (docs/authoring.md "Mapping"), pure: what a
/// mapped task's own row says once its instances have run, and what its downstream tasks'
/// trigger rules see of it.
/// </summary>
internal static class MappedStates
{
    /// <summary>
    /// The state of a mapped task's own row from its instances' states: null while one has
    /// not finished; skipped when every one was skipped; failed when one ended unsuccessful
    /// (failed, cancelled); success otherwise (skipped instances among successes included).
    /// </summary>
    public static string? Summary(IEnumerable<string> instanceStates)
    {
        bool any = false, allSkipped = true, unsuccessful = false;
        foreach (var state in instanceStates)
        {
            if (!TaskStates.IsFinal(state))
                return null;
            any = true;
            allSkipped &= state == TaskStates.Skipped;
            unsuccessful |= TaskStates.IsUnsuccessful(state);
        }
        if (!any)
            return null;
        return unsuccessful ? TaskStates.Failed : allSkipped ? TaskStates.Skipped : TaskStates.Success;
    }

    /// <summary>
    /// What a task's trigger rule counts: each plain upstream's state, and for an expanded
    /// mapped upstream the state of every one of its instances (so all_success needs all of
    /// them succeeded, one_failed fires on the first failed instance). A mapped upstream not
    /// expanded (yet, or at all: skipped on an empty array, failed on a bad map_over) counts
    /// as its own row.
    /// </summary>
    public static List<string> Upstream(IReadOnlyList<string> dependsOn, IReadOnlyDictionary<string, string> states, IReadOnlyDictionary<string, Dictionary<int, string>> instances)
    {
        var upstream = new List<string>(dependsOn.Count);
        foreach (var dep in dependsOn)
        {
            if (instances.TryGetValue(dep, out var mapped) && mapped.Count > 0)
                upstream.AddRange(mapped.Values);
            else
                upstream.Add(states[dep]);
        }
        return upstream;
    }
}
