using System.Text.Json.Nodes;

namespace Scheduler.Infrastructure.Templates;

/// <summary>
/// Which string fields of a task are templates (the contract's list): <c>command</c> and
/// <c>env</c> values of shell tasks, <c>uri</c>, <c>headers</c> values and every string in
/// <c>body</c> of http tasks, <c>statement</c> of sql tasks, <c>until</c> and <c>http.uri</c> of wait tasks, and every string a plugin task
/// carries in its own fields. The engine's fields (<c>id</c>, <c>depends_on</c>, <c>pool</c>,
/// ...) never are. One walk serves validation (parse every template, report its path) and
/// the worker (render each in place).
/// </summary>
internal static class TemplateFields
{
    /// <summary>Fields the engine reads: never rendered.</summary>
    private static readonly HashSet<string> EngineFields = new(StringComparer.Ordinal)
    {
        "id", "type", "depends_on", "trigger_rule", "retries", "retry_delay", "retry_backoff", "max_retry_delay",
        "timeout", "pool", "priority", "branch", "map_over", "max_map_length", "outlets",
    };

    private static readonly Dictionary<string, string[]> BuiltIn = new(StringComparer.Ordinal)
    {
        ["noop"] = [],
        ["shell"] = ["command", "env"],
        ["http"] = ["uri", "headers", "body"],
        ["sql"] = ["statement"],
        ["wait"] = ["until", "http"],
    };

    /// <summary>
    /// Calls <paramref name="visit"/> with the path (<c>env.NAME</c>, <c>body.items[0]</c>) and text
    /// of every template field holding Liquid markup; a non-null answer replaces the text.
    /// </summary>
    public static void Visit(JsonObject spec, string type, Func<string, string, string?> visit)
    {
        var fields = BuiltIn.TryGetValue(type, out var own)
            ? own
            : spec.Select(kv => kv.Key).Where(k => !EngineFields.Contains(k)).ToArray();
        foreach (var field in fields)
            if (spec[field] is { } node)
                Walk(node, field, visit, replace => spec[field] = replace);
    }

    /// <summary>The template fields holding Liquid markup, with their paths.</summary>
    public static List<(string Path, string Text)> Find(JsonObject spec, string type)
    {
        var found = new List<(string, string)>();
        Visit(spec, type, (path, text) =>
        {
            found.Add((path, text));
            return null;
        });
        return found;
    }

    private static void Walk(JsonNode node, string path, Func<string, string, string?> visit, Action<JsonNode> replace)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(kv => kv.Key).ToList())
                    if (o[key] is { } child)
                        Walk(child, $"{path}.{key}", visit, value => o[key] = value);
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    var index = i;
                    if (a[i] is { } child)
                        Walk(child, $"{path}[{i}]", visit, value => a[index] = value);
                }
                break;
            case JsonValue v when v.TryGetValue<string>(out var text) && Liquid.IsTemplate(text):
                if (visit(path, text) is { } rendered)
                    replace(JsonValue.Create(rendered));
                break;
        }
    }
}
