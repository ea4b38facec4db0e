using System.Collections.Concurrent;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>A plan indexed for the engine: who is upstream and downstream of whom.</summary>
internal sealed class RunGraph
{
    private static readonly ConcurrentDictionary<(long, int), RunGraph> Cache = new();

    public DagPlan Plan { get; }
    public IReadOnlyDictionary<string, TaskPlan> Tasks { get; }
    public IReadOnlyDictionary<string, string[]> Downstream { get; }

    private RunGraph(DagPlan plan)
    {
        Plan = plan;
        Tasks = plan.Tasks.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var downstream = plan.Tasks.ToDictionary(t => t.Id, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var task in plan.Tasks)
            foreach (var dep in task.DependsOn)
                downstream[dep].Add(task.Id);
        Downstream = downstream.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
    }

    public static RunGraph For(DagPlan plan)
    {
        if (Cache.Count > 50_000)
            Cache.Clear();
        return Cache.GetOrAdd((plan.DagId, plan.Version), _ => new RunGraph(plan));
    }

    /// <summary>Tasks that may start as soon as the run starts.</summary>
    public IEnumerable<TaskPlan> Roots => Plan.Tasks.Where(t => t.DependsOn.Count == 0 || t.TriggerRule == "always");
}
