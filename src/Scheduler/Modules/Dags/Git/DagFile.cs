using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Json;
using Scheduler.Modules.Dags.Definitions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Modules.Dags.Git;

/// <summary>
/// Reads one DAG file: JSON as the REST API reads a body (same converters, same strictness),
/// YAML by turning the document into that same JSON first, so both go through one
/// deserialisation and, after it, the API's own validator.
/// </summary>
internal static partial class DagFile
{
    public const int MaxBytes = 1024 * 1024;
    private const int MaxNodes = 100_000;

    public static bool IsDagFile(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>The definition, or why the file is not one (keyed by field path, "$" for the whole file).</summary>
    public static (DagDefinition? Definition, Dictionary<string, string[]> Errors) Parse(string path, byte[] content)
    {
        if (content.Length > MaxBytes)
            return Fail("$", $"the file is larger than {MaxBytes} bytes.");
        string json;
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
            json = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? text : YamlToJson(text);
        }
        catch (DecoderFallbackException)
        {
            return Fail("$", "the file is not valid UTF-8.");
        }
        catch (YamlException e)
        {
            return Fail("$", $"invalid YAML (line {e.Start.Line}, column {e.Start.Column}): {e.Message}");
        }
        catch (InvalidDataException e)
        {
            return Fail("$", e.Message);
        }
        try
        {
            var definition = JsonSerializer.Deserialize<DagDefinition>(json, JsonConventions.Options);
            return definition is null ? Fail("$", "the file must hold one object.") : (definition, []);
        }
        catch (JsonException e)
        {
            return Fail(JsonPaths.ToFieldPath(e.Path) ?? "$", JsonPaths.Describe(e));
        }
    }

    private static (DagDefinition?, Dictionary<string, string[]>) Fail(string key, string message) => (null, new() { [key] = [message] });

    /// <summary>One YAML document as JSON text; plain scalars get YAML 1.2 core types (null, bool, int, float).</summary>
    internal static string YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count != 1)
            throw new InvalidDataException("the file must hold exactly one YAML document.");
        var nodes = 0;
        return (Convert(stream.Documents[0].RootNode, ref nodes) ?? throw new InvalidDataException("the file must hold one object.")).ToJsonString();
    }

    private static JsonNode? Convert(YamlNode node, ref int nodes)
    {
        // Aliases reuse nodes, so a small file can stand for a huge tree: count what is built.
        if (++nodes > MaxNodes)
            throw new InvalidDataException($"the YAML expands to more than {MaxNodes} values.");
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                        throw new InvalidDataException($"line {key.Start.Line}: keys must be plain strings.");
                    if (obj.ContainsKey(name))
                        throw new InvalidDataException($"line {key.Start.Line}: duplicate key '{name}'.");
                    obj[name] = Convert(value, ref nodes);
                }
                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                    array.Add(Convert(item, ref nodes));
                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new InvalidDataException($"line {node.Start.Line}: unsupported YAML node.");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is not (YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any))
            return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL")
            return null;
        if (value is "true" or "True" or "TRUE")
            return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE")
            return JsonValue.Create(false);
        if (Integer().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            return JsonValue.Create(n);
        if (Float().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
            return JsonValue.Create(d);
        return JsonValue.Create(value);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
