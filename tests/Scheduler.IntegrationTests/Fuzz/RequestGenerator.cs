using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Scheduler.IntegrationTests.Fuzz;

/// <summary>The things that exist on the server, so some requests reach past "not found".</summary>
public sealed record FuzzTargets(string[] Dags, long[] RunIds, string[] TaskIds, string Monitor, string? MonitorToken, string Channel,
    string Connection, string Pool, long KeyId, long[] DeliveryIds, long[] DeadLetterIds);

/// <summary>One generated request; <see cref="RouteMatches"/> is false when a path value breaks its route constraint (an id that is not a number).</summary>
public sealed record FuzzRequest(ApiOperation Operation, string Path, byte[]? Body, string? ContentType, IReadOnlyDictionary<string, string> Headers, bool RouteMatches)
{
    public override string ToString()
    {
        var body = Body is null ? "(no body)" : Encoding.UTF8.GetString(Body);
        var headers = string.Concat(Headers.Select(h => $" {h.Key}: {(h.Value.Length > 40 ? h.Value[..40] + "..." : h.Value)};"));
        return $"{Operation.Method} {Path} [{ContentType}]{headers} {(body.Length > 600 ? body[..600] + $"... ({Body!.Length} bytes)" : body)}";
    }
}

/// <summary>Builds bad requests for an operation from its OpenAPI description, from one seeded <see cref="Random"/>.</summary>
public sealed class RequestGenerator(JsonElement document, FuzzTargets targets, Random random)
{
    private const string RawMark = "\u0001RAW";

    /// <summary>Bodies that pass validation, to mutate one field at a time (operations without an example in the document).</summary>
    private static readonly Dictionary<string, string> GoodBodies = new(StringComparer.Ordinal)
    {
        ["/api/v1/monitors"] = """{"name":"fuzz_new_monitor","interval":"PT1H"}""",
        ["/api/v1/monitors/{name}"] = """{"interval":"PT2H","grace":"PT1M"}""",
        ["/api/v1/monitors/{name}/ping"] = """{"status":"success","duration_seconds":1.5,"message":"ok"}""",
        ["/api/v1/channels"] = """{"name":"fuzz_new_channel","type":"webhook","settings":{"url":"http://127.0.0.1:9/hook","secret":"fuzz-secret-0123456789"}}""",
        ["/api/v1/channels/{name}"] = """{"type":"webhook","settings":{"url":"http://127.0.0.1:9/hook","secret":"fuzz-secret-0123456789"}}""",
        ["/api/v1/connections"] = """{"name":"fuzz_new_conn","kind":"postgres","connection_string":"Host=127.0.0.1;Port=9;Database=x;Username=u;Password=p"}""",
        ["/api/v1/connections/{name}"] = """{"kind":"postgres","connection_string":"Host=127.0.0.1;Port=9;Database=x;Username=u;Password=p"}""",
        ["/api/v1/notifications/rules"] = """{"rules":[{"on":["failure"],"channel":"fuzz_chan"}]}""",
        ["/api/v1/pools/{name}"] = """{"slots":3,"description":"fuzz"}""",
        ["/api/v1/dags/{name}/runs"] = """{"conf":{"a":1,"b":"two"},"logical_date":"2026-01-01T00:00:00Z"}""",
        ["/api/v1/runs/{runId}/tasks/{taskId}/mark"] = """{"state":"success"}""",
        ["/api/v1/runs/{runId}/tasks/{taskId}/signal"] = """{"approved_by":"fuzz"}""",
    };

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private bool Chance(double p) => random.NextDouble() < p;

    public FuzzRequest Generate(ApiOperation operation)
    {
        var matches = true;
        var path = new StringBuilder();
        foreach (var segment in operation.Template.Split('/'))
        {
            if (path.Length > 0 || segment.Length > 0)
                path.Append('/');
            if (!segment.StartsWith('{'))
            {
                path.Append(segment);
                continue;
            }
            var parameter = operation.Parameters.Single(p => p.In == "path" && "{" + p.Name + "}" == segment);
            var value = PathValue(operation, parameter);
            if (parameter.Type == "integer")
                matches &= parameter.Format == "int32"
                    ? int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                    : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
            path.Append(Uri.EscapeDataString(value));
        }
        var query = new List<string>();
        foreach (var parameter in operation.Parameters.Where(p => p.In == "query"))
            if (Chance(0.6))
                query.Add(Uri.EscapeDataString(parameter.Name) + "=" + QueryValue(parameter));
        if (Chance(0.1))
            query.Add(Uri.EscapeDataString(Pick(BadValues.PathStrings)) + "=" + Uri.EscapeDataString(Pick(BadValues.Strings)));
        if (Chance(0.05) && query.Count > 0)
            query.Add(query[0]);
        // Kestrel answers a request line over 8 KiB itself (414, before the app and its problem
        // documents): long values stay, but not so many that the line crosses that limit.
        while (query.Count > 0 && path.Length + query.Sum(q => q.Length + 1) > 7000)
            query.Remove(query.MaxBy(q => q.Length)!);
        if (query.Count > 0)
            path.Append('?').Append(string.Join('&', query));

        var headers = new Dictionary<string, string>();
        if (operation.Parameters.Any(p => p.In == "header" && p.Name == "X-Monitor-Token") && !Chance(0.3))
            headers["X-Monitor-Token"] = Chance(0.5) && targets.MonitorToken is { } token ? token : Pick(["", "mt_garbage", new string('t', 3000), "x y"]);
        if (Chance(0.2))
            headers["Accept"] = Pick(["text/html", "text/plain", "application/xml", "*/*", "image/png", "application/json;q=0", "garbage"]);
        var (body, contentType) = Body(operation);
        return new FuzzRequest(operation, path.ToString(), body, contentType, headers, matches);
    }

    private string PathValue(ApiOperation operation, ApiParameter parameter)
    {
        if (parameter.Type == "integer")
        {
            var known = parameter.Name switch
            {
                "runId" => targets.RunIds,
                "version" => [1L, 2L],
                _ when operation.Template.StartsWith("/api/v1/api-keys", StringComparison.Ordinal) => [targets.KeyId],
                _ when operation.Template.Contains("deliveries", StringComparison.Ordinal) => targets.DeliveryIds,
                _ => targets.DeadLetterIds,
            };
            // Never a small id other than a known one: a key the fuzz revoked could be a role's own.
            return random.Next(10) switch
            {
                < 5 when known.Length > 0 => Pick(known).ToString(CultureInfo.InvariantCulture),
                < 7 => (9_000_000_000_000L + random.Next(1000)).ToString(CultureInfo.InvariantCulture),
                _ => Pick(BadValues.Integers.Where(i => i.Length > 0 && !(int.TryParse(i, out var n) && n is > 0 and < 1_000_000)).ToList()),
            };
        }
        var name = parameter.Name == "taskId" ? Pick(targets.TaskIds) : KnownName(operation.Template);
        return random.Next(10) switch
        {
            < 5 => name,
            < 6 => "no_such_" + random.Next(1000).ToString(CultureInfo.InvariantCulture),
            _ => Pick(BadValues.PathStrings),
        };
    }

    private string KnownName(string template) => template switch
    {
        _ when template.StartsWith("/api/v1/monitors", StringComparison.Ordinal) => targets.Monitor,
        _ when template.StartsWith("/api/v1/channels", StringComparison.Ordinal) => targets.Channel,
        _ when template.StartsWith("/api/v1/connections", StringComparison.Ordinal) => targets.Connection,
        _ when template.StartsWith("/api/v1/pools", StringComparison.Ordinal) => targets.Pool,
        _ => Pick(targets.Dags),
    };

    private string QueryValue(ApiParameter parameter)
    {
        if (Chance(0.08))
            return Pick(BadValues.EncodedQueryValues);
        var value = (parameter.Type, parameter.Format, parameter.Name) switch
        {
            (_, _, "cursor") => Pick(BadValues.Cursors),
            ("integer", _, _) => Pick(BadValues.Integers),
            ("boolean", _, _) => Pick(BadValues.Booleans),
            (_, "date-time", _) => Pick(BadValues.Dates),
            (_, _, "state" or "status") => Chance(0.5) ? Pick(["queued", "running", "success", "failed", "cancelled", "pending", "delivered", "late", "start", "fail"]) : Pick(BadValues.Strings),
            _ => Chance(0.3) ? Pick(targets.Dags) : Pick(BadValues.Strings),
        };
        return Uri.EscapeDataString(value);
    }

    private (byte[]? Body, string? ContentType) Body(ApiOperation operation)
    {
        if (operation.BodySchema is not { } schema)
            return Chance(0.85) ? (null, null) : (Encoding.UTF8.GetBytes(Mutate(new JsonObject { ["unexpected"] = "body" })), "application/json");
        switch (random.Next(20))
        {
            case 0 or 1 or 2:
                return (Pick(BadValues.RawBodies), "application/json");
            case 3:
                return (null, null);
            case 4:
                return (Encoding.UTF8.GetBytes(Base(operation, schema).ToJsonString()), Pick(["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/merge-patch+json"]));
            default:
                return (Encoding.UTF8.GetBytes(Mutate(Base(operation, schema))), "application/json");
        }
    }

    private JsonNode Base(ApiOperation operation, JsonElement schema)
    {
        if (Chance(0.7) && (operation.Example is { } example ? example.GetRawText() : GoodBodies.GetValueOrDefault(operation.Template)) is { } good)
            return JsonNode.Parse(good)!;
        return Skeleton(schema, 0) ?? new JsonObject();
    }

    /// <summary>A value of the schema's shape: every property present, plausible but not necessarily valid values.</summary>
    private JsonNode? Skeleton(JsonElement schema, int depth)
    {
        schema = OpenApiOperations.Resolve(document, schema);
        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        if (depth > 4)
            return null;
        switch (type)
        {
            case "object" when schema.TryGetProperty("properties", out var properties) && !schema.GetRawText().Contains("JsonNodeOptions", StringComparison.Ordinal):
                var obj = new JsonObject();
                foreach (var property in properties.EnumerateObject())
                    obj[property.Name] = Skeleton(property.Value, depth + 1);
                return obj;
            case "object":
                return new JsonObject { ["key"] = "value" };
            case "array":
                return schema.TryGetProperty("items", out var items) ? new JsonArray(Skeleton(items, depth + 1)) : new JsonArray();
            case "integer":
                return 1;
            case "number":
                return 1.5;
            case "boolean":
                return false;
            case "string":
                return format switch { "date-time" => "2027-01-01T00:00:00Z", "date-span" => "PT1H", _ => "fuzz_" + random.Next(100).ToString(CultureInfo.InvariantCulture) };
            default:
                return "value";
        }
    }

    /// <summary>One to three changes anywhere in the tree: a wrong type, a bad string, a removed or unknown field, a raw value.</summary>
    private string Mutate(JsonNode root)
    {
        var raws = new List<string>();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            var nodes = Walk(root).ToList();
            var (parent, key) = Pick(nodes);
            var replacement = random.Next(10) switch
            {
                < 3 => JsonValue.Create(Pick(BadValues.Strings)),
                3 => JsonValue.Create(Pick(BadValues.Durations)),
                4 => JsonValue.Create(Pick(BadValues.Dates)),
                5 => JsonNode.Parse(Pick(["-1", "0", "2147483648", "-9223372036854775808", "1.5", "true", "null", "[]", "{}", "[1,2]", "{\"unknown\":1}"])),
                _ => JsonValue.Create(RawMark + raws.Count + "\u0001"),
            };
            if (replacement is JsonValue v && v.TryGetValue<string>(out var s) && s.StartsWith(RawMark, StringComparison.Ordinal))
                raws.Add(Pick(BadValues.RawJson));
            switch (parent)
            {
                case JsonObject obj when key is string name && Chance(0.2):
                    obj.Remove(name);
                    break;
                case JsonObject obj when Chance(0.15):
                    obj["unknown_" + random.Next(100).ToString(CultureInfo.InvariantCulture)] = replacement;
                    break;
                case JsonObject obj when key is string name:
                    obj[name] = replacement;
                    break;
                case JsonArray array when key is int index:
                    array[index] = replacement;
                    break;
                default:
                    root = replacement ?? JsonValue.Create("null")!;
                    break;
            }
        }
        var text = root.ToJsonString();
        for (var i = 0; i < raws.Count; i++)
            text = text.Replace("\"\\u0001RAW" + i.ToString(CultureInfo.InvariantCulture) + "\\u0001\"", raws[i], StringComparison.Ordinal);
        return text;
    }

    /// <summary>Every place a value could be changed: (container, property name or index); (null, null) is the root.</summary>
    private static IEnumerable<(JsonNode? Parent, object? Key)> Walk(JsonNode? node)
    {
        yield return (null, null);
        foreach (var place in Children(node))
            yield return place;
    }

    private static IEnumerable<(JsonNode? Parent, object? Key)> Children(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    yield return (obj, name);
                    foreach (var place in Children(child))
                        yield return place;
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    yield return (array, i);
                    foreach (var place in Children(array[i]))
                        yield return place;
                }
                break;
        }
    }
}
