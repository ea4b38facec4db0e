using System.Diagnostics;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// YAML files of deploy/ read as JSON nodes (scalars as strings; anchors and merge keys
/// resolved), and Kustomize directories resolved to their resources the way
/// <c>kustomize build</c> lists them (resources only: the checks are on what the files say).
/// </summary>
public static class Manifests
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder().Build();

    /// <summary>Every document of a YAML file.</summary>
    public static List<JsonObject> Load(string path)
    {
        var documents = new List<JsonObject>();
        var parser = new MergingParser(new Parser(new StringReader(File.ReadAllText(path))));
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
            if (ToJson(Yaml.Deserialize(parser)) is JsonObject document)
                documents.Add(document);
        return documents;
    }

    /// <summary>The resources of a kustomization directory, following directories it includes.</summary>
    public static List<JsonObject> Kustomize(string directory)
    {
        var kustomization = Load(Path.Combine(directory, "kustomization.yaml")).Single();
        Assert.Equal("Kustomization", (string?)kustomization["kind"]);
        var resources = new List<JsonObject>();
        foreach (var resource in kustomization["resources"]!.AsArray().Select(r => (string)r!))
        {
            var path = Path.GetFullPath(Path.Combine(directory, resource));
            resources.AddRange(Directory.Exists(path) ? Kustomize(path) : Load(path));
        }
        return resources;
    }

    /// <summary>What <c>kubectl kustomize</c> renders (kinds and names), or null without kubectl.</summary>
    public static List<string>? KubectlKustomize(string directory)
    {
        var kubectl = Environment.GetEnvironmentVariable("PATH")?.Split(':').Select(p => Path.Combine(p, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl is null)
            return null;
        var start = new ProcessStartInfo(kubectl) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "kubectl kustomize did not finish");
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {directory} failed: {errors.Result}");
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, output.Result);
            return Load(file).Select(Id).Order().ToList();
        }
        finally
        {
            File.Delete(file);
        }
    }

    public static string Id(JsonObject resource) => $"{resource["kind"]}/{resource["metadata"]?["name"]}";

    private static JsonNode? ToJson(object? yaml) => yaml switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key.ToString()!, ToJson(kv.Value)))),
        IList<object> list => new JsonArray(list.Select(ToJson).ToArray()),
        _ => JsonValue.Create(yaml.ToString()),
    };
}
