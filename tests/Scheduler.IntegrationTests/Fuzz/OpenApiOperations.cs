using System.Text.Json;

namespace Scheduler.IntegrationTests.Fuzz;

/// <summary>A parameter of an operation: where it goes and what the document says it holds.</summary>
public sealed record ApiParameter(string Name, string In, string? Type, string? Format, bool Required);

/// <summary>One operation of the OpenAPI document, with its request body's schema resolved.</summary>
public sealed record ApiOperation(string Method, string Template, IReadOnlyList<ApiParameter> Parameters, JsonElement? BodySchema, bool BodyRequired, JsonElement? Example)
{
    public bool Mutates => Method != "GET";

    public override string ToString() => $"{Method} {Template}";
}

/// <summary>Reads the operations out of <c>/swagger/v1/swagger.json</c>.</summary>
public sealed class OpenApiOperations(JsonElement document)
{
    public IReadOnlyList<ApiOperation> All { get; } = Read(document);

    private static List<ApiOperation> Read(JsonElement document)
    {
        var operations = new List<ApiOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                var op = method.Value;
                var parameters = op.TryGetProperty("parameters", out var ps)
                    ? ps.EnumerateArray().Select(p => new ApiParameter(
                        p.GetProperty("name").GetString()!,
                        p.GetProperty("in").GetString()!,
                        p.TryGetProperty("schema", out var s) && s.TryGetProperty("type", out var t) ? t.GetString() : null,
                        p.TryGetProperty("schema", out var f) && f.TryGetProperty("format", out var fo) ? fo.GetString() : null,
                        p.TryGetProperty("required", out var r) && r.GetBoolean())).ToList()
                    : [];
                JsonElement? schema = null, example = null;
                var required = false;
                if (op.TryGetProperty("requestBody", out var body) && body.GetProperty("content").TryGetProperty("application/json", out var json))
                {
                    schema = Resolve(document, json.GetProperty("schema"));
                    example = json.TryGetProperty("example", out var e) ? e : null;
                    required = body.TryGetProperty("required", out var r) && r.GetBoolean();
                }
                operations.Add(new ApiOperation(method.Name.ToUpperInvariant(), path.Name, parameters, schema, required, example));
            }
        }
        return operations;
    }

    /// <summary>Follows a <c>$ref</c> into <c>components/schemas</c>.</summary>
    public static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        if (!schema.TryGetProperty("$ref", out var reference))
            return schema;
        var name = reference.GetString()!["#/components/schemas/".Length..];
        return document.GetProperty("components").GetProperty("schemas").GetProperty(name);
    }
}
