using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scheduler.Infrastructure.Json;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>
/// The canonical form of a definition: the API's JSON conventions, object keys sorted at
/// every depth, no insignificant white space, no nulls. Two requests that mean the same
/// thing get the same text and so the same hash, which is what makes an unchanged PUT a no-op.
/// </summary>
internal static class CanonicalJson
{
    public static string Serialize(DagDefinition definition)
    {
        var node = JsonSerializer.SerializeToNode(definition, JsonConventions.Options)!;
        return Sorted(node)!.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    public static string Hash(string canonical) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));

    public static DagDefinition Deserialize(string json) =>
        JsonSerializer.Deserialize<DagDefinition>(json, JsonConventions.Options)
        ?? throw new InvalidDataException("A stored definition is empty.");

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj
            .Where(kv => kv.Value is not null)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray array => new JsonArray(array.Select(Sorted).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };
}
