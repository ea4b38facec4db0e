using System.Text.Json.Nodes;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Workers.Templates;

/// <summary>
/// A branch task's decision (docs/authoring.md): its output must be <c>{"follow": ["&lt;id&gt;", ...]}</c>
/// naming some of its direct downstream tasks; the engine skips the others. Anything else
/// fails the branch task, saying what is wrong, rather than guessing which way to go.
/// </summary>
internal static class Branching
{
    public static bool IsBranch(JsonObject spec) => spec["branch"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>The tasks to follow, or why the output is not a branch decision.</summary>
    public static (IReadOnlyList<string>? Follow, string? Error) Follow(JsonNode? output, DagPlan dag, string taskId)
    {
        var downstream = dag.Tasks.Where(t => t.DependsOn.Contains(taskId)).Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var known = string.Join(", ", downstream.Order(StringComparer.Ordinal));
        if (output is not JsonObject o || o["follow"] is not JsonArray list)
            return (null, $"a branch task's output must be {{\"follow\": [\"<task id>\", ...]}} naming some of its direct downstream tasks ({known})");
        var follow = new List<string>();
        foreach (var item in list)
        {
            if (item is not JsonValue v || !v.TryGetValue<string>(out var id))
                return (null, $"'follow' must list task ids (strings); found {item?.ToJsonString() ?? "null"}");
            if (!downstream.Contains(id))
                return (null, $"'follow' names '{id}', which is not a direct downstream task of '{taskId}' ({known})");
            follow.Add(id);
        }
        return (follow, null);
    }
}
