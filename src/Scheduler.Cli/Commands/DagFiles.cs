using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Cli.Commands;

/// <summary>DAG files: <c>.json</c>, <c>.yaml</c> and <c>.yml</c>, one DAG each; a folder is read recursively, in name order.</summary>
public static class DagFiles
{
    private static readonly string[] Extensions = [".json", ".yaml", ".yml"];

    public static IReadOnlyList<string> Find(string path)
    {
        if (File.Exists(path))
            return [path];
        if (Directory.Exists(path))
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).ToList();
        throw new UsageException($"no such file or folder: {path}");
    }

    /// <summary>The file's DAG as JSON; a file that is not a JSON/YAML object fails with its name and position.</summary>
    public static JsonObject Read(string file)
    {
        var text = File.ReadAllText(file);
        JsonNode? node;
        try
        {
            node = Path.GetExtension(file).Equals(".json", StringComparison.OrdinalIgnoreCase) ? JsonNode.Parse(text) : FromYaml(text);
        }
        catch (Exception e) when (e is JsonException or YamlException)
        {
            throw new FailedException($"{file}: {e.Message}");
        }
        return node as JsonObject ?? throw new FailedException($"{file}: a DAG file holds one object (name, tasks, ...).");
    }

    /// <summary>YAML to JSON: plain scalars that read as null, booleans or numbers become those; quoted ones stay strings.</summary>
    public static JsonNode? FromYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", Convert(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new YamlException(node.Start, node.End, "aliases are not supported in DAG files."),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
            return value;
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return true;
            case "false" or "False" or "FALSE":
                return false;
        }
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return integer;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            return number;
        return value;
    }
}
