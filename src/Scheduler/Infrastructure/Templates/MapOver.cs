using System.Text.Json;
using System.Text.Json.Nodes;

namespace Scheduler.Infrastructure.Templates;

/// <summary>
/// What a mapped task's rendered <c>map_over</c> means (docs/authoring.md "Mapping"): a JSON
/// array of at most max_map_length elements, one instance each. Anything else is refused with
/// the reason, never guessed at: a string is not split, an object is not iterated.
/// </summary>
internal static class MapOver
{
    /// <summary>The elements to map over (possibly none), or why there are none to map over.</summary>
    public sealed record Expansion(JsonArray? Items, string? Error);

    public static Expansion Parse(string rendered, int maxLength)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(rendered);
        }
        catch (JsonException)
        {
            return new(null, $"map_over must render to a JSON array (use the json filter: \"{{{{ outputs.list.files | json }}}}\"); it rendered {Quote(rendered)}, which is not JSON");
        }
        if (node is not JsonArray items)
            return new(null, $"map_over must render to a JSON array; it rendered {KindOf(node)}: {Quote(rendered)}");
        if (items.Count > maxLength)
            return new(null, $"map_over rendered {items.Count} items, more than max_map_length ({maxLength}); raise max_map_length or map over fewer");
        return new(items, null);
    }

    private static string KindOf(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "a string",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => "a number",
        _ => "a boolean",
    };

    private static string Quote(string text) => text.Length <= 200 ? $"'{text}'" : $"'{text[..200]}...'";
}
