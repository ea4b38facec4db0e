using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Scheduler.Infrastructure.Templates;

/// <summary>
/// A DAG's <c>params_schema</c> (JSON Schema, draft 2020-12 unless it says otherwise): checked
/// when the DAG is validated, and applied to a trigger's merged params. Built schemas are kept
/// per distinct text, each in a registry of its own (two DAGs' schemas never clash on an <c>$id</c>).
/// </summary>
internal static class ParamsSchemas
{
    private static readonly ConcurrentDictionary<string, JsonSchema> Built = new(StringComparer.Ordinal);
    private const int MaxBuilt = 10_000;

    public static bool TryBuild(JsonObject schema, out JsonSchema? built, out string? error)
    {
        var text = schema.ToJsonString();
        error = null;
        if (Built.TryGetValue(text, out built))
            return true;
        try
        {
            built = JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri($"urn:scheduler:params:{Guid.NewGuid():N}"));
        }
        // The library reports a bad schema with exceptions of several types (its own among them).
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            error = e.Message;
            return false;
        }
        if (Built.Count >= MaxBuilt)
            Built.Clear();
        Built[text] = built;
        return true;
    }

    /// <summary>
    /// What is wrong with <paramref name="instance"/>, keyed by <paramref name="root"/> plus the
    /// JSON path of the offending value (<c>conf.limit</c>, <c>conf.regions[1]</c>); empty when valid.
    /// </summary>
    public static List<(string Path, string Message)> Check(JsonSchema schema, JsonNode instance, string root)
    {
        using var document = JsonDocument.Parse(instance.ToJsonString());
        var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = new List<(string, string)>();
        if (results.IsValid)
            return errors;
        foreach (var detail in (results.Details ?? []).Append(results))
        {
            if (detail.Errors is null)
                continue;
            var path = root + PathOf(detail.InstanceLocation.ToString());
            foreach (var (_, message) in detail.Errors)
                errors.Add((path, message));
        }
        if (errors.Count == 0)
            errors.Add((root, "does not match params_schema."));
        return errors.Distinct().ToList();
    }

    /// <summary>A JSON Pointer (<c>/regions/1</c>) as a path (<c>.regions[1]</c>).</summary>
    private static string PathOf(string pointer)
    {
        if (pointer.Length == 0)
            return "";
        var path = new System.Text.StringBuilder();
        foreach (var raw in pointer.TrimStart('/').Split('/'))
        {
            var part = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            path.Append(part.Length > 0 && part.All(char.IsAsciiDigit) ? $"[{part}]" : $".{part}");
        }
        return path.ToString();
    }
}
