using System.Text.Json.Nodes;

namespace Scheduler.Cli.Commands;

/// <summary>What changes between two definitions, by JSON path: <c>+ tasks[load]</c>, <c>- description</c>, <c>~ cron: "0 9 * * *" -> "0 10 * * *"</c>.</summary>
public static class JsonDiff
{
    public static List<string> Lines(JsonNode? before, JsonNode? after)
    {
        var lines = new List<string>();
        Walk("", before, after, lines);
        return lines;
    }

    private static void Walk(string path, JsonNode? before, JsonNode? after, List<string> lines)
    {
        if (JsonNode.DeepEquals(before, after))
            return;
        if (before is JsonObject a && after is JsonObject b)
        {
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)).Order(StringComparer.Ordinal))
                Walk(Join(path, key), a[key], b[key], lines);
            return;
        }
        // Tasks are matched by id, so inserting one does not show every later task as changed.
        if (before is JsonArray x && after is JsonArray y && ById(x) is { } old && ById(y) is { } current)
        {
            foreach (var id in old.Keys.Union(current.Keys))
                Walk($"{path}[{id}]", old.GetValueOrDefault(id), current.GetValueOrDefault(id), lines);
            return;
        }
        if (before is null)
            lines.Add($"+ {path}: {Show(after)}");
        else if (after is null)
            lines.Add($"- {path}");
        else
            lines.Add($"~ {path}: {Show(before)} -> {Show(after)}");
    }

    private static Dictionary<string, JsonNode>? ById(JsonArray array)
    {
        var byId = new Dictionary<string, JsonNode>();
        foreach (var item in array)
            if (item is not JsonObject o || o["id"] is not JsonValue id || !id.TryGetValue<string>(out var key) || !byId.TryAdd(key, o))
                return null;
        return byId;
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string Show(JsonNode? node)
    {
        var text = node?.ToJsonString() ?? "null";
        return text.Length > 80 ? text[..77] + "..." : text;
    }
}
