using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Scheduler.Pages.Admin.Dags;

/// <summary>
/// The admin trigger form's inputs, built from a DAG's <c>params_schema</c>: one input per
/// top-level property (text, a choice for enums and booleans, number, or JSON for arrays and
/// objects), pre-filled from the schema's <c>default</c> or the DAG's <c>params</c>, with the
/// property's title and description. What the form posts back is turned into typed JSON here;
/// the schema itself is checked by the trigger (the same rule as the REST API), not here.
/// </summary>
internal static class ParamsForm
{
    /// <summary>Form field names are this prefix plus the property name.</summary>
    public const string Prefix = "param.";

    public enum Kind { Text, Choice, Integer, Number, Boolean, Json }

    /// <summary>A choice's value is the option's JSON text; its label is the text shown.</summary>
    public sealed record Option(string Json, string Label);

    /// <summary>An input. <see cref="Value"/> is the pre-filled text: JSON text for choices and JSON inputs.</summary>
    public sealed record Field(string Name, Kind Kind, string Label, string? Description, bool Required, string Value, IReadOnlyList<Option> Options);

    public static IReadOnlyList<Field> Build(JsonObject? schema, JsonObject? defaults)
    {
        if (schema?["properties"] is not JsonObject properties)
            return [];
        var required = schema["required"] is JsonArray names
            ? names.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
        var fields = new List<Field>();
        foreach (var (name, node) in properties)
        {
            var property = node as JsonObject ?? [];
            var value = property["default"] ?? defaults?[name];
            var options = property["enum"] is JsonArray choices ? choices.Select(c => new Option(c?.ToJsonString() ?? "null", Display(c))).ToList() : [];
            var kind = options.Count > 0 ? Kind.Choice : TypeOf(property) switch
            {
                "integer" => Kind.Integer,
                "number" => Kind.Number,
                "boolean" => Kind.Boolean,
                "string" => Kind.Text,
                null when value is JsonValue v && v.GetValueKind() == JsonValueKind.String => Kind.Text,
                _ => Kind.Json,
            };
            if (kind == Kind.Boolean)
                options = [new Option("true", "true"), new Option("false", "false")];
            var label = property["title"] is JsonValue t && t.TryGetValue<string>(out var title) ? title : name;
            var description = property["description"] is JsonValue d && d.TryGetValue<string>(out var text) ? text : null;
            var shown = value is null ? "" : kind is Kind.Choice or Kind.Boolean or Kind.Json ? value.ToJsonString() : Display(value);
            fields.Add(new Field(name, kind, label, description, required.Contains(name), shown, options));
        }
        return fields;
    }

    /// <summary>
    /// The posted inputs as JSON over <paramref name="conf"/>: an empty input is left out (the
    /// DAG's params or the schema's default then apply); a number that does not parse, or JSON
    /// that does not parse, is an error naming the field.
    /// </summary>
    public static string? Merge(IReadOnlyList<Field> fields, IFormCollection form, JsonObject conf)
    {
        foreach (var field in fields)
        {
            var raw = form[Prefix + field.Name].LastOrDefault()?.Trim();
            if (string.IsNullOrEmpty(raw))
                continue;
            JsonNode? value;
            switch (field.Kind)
            {
                case Kind.Integer when long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n):
                    value = JsonValue.Create(n);
                    break;
                case Kind.Number when decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d):
                    value = JsonValue.Create(d);
                    break;
                case Kind.Integer or Kind.Number:
                    return $"conf.{field.Name}: '{raw}' is not a number";
                case Kind.Choice or Kind.Boolean or Kind.Json:
                    try
                    {
                        value = JsonNode.Parse(raw);
                    }
                    catch (JsonException e)
                    {
                        return $"conf.{field.Name}: invalid JSON ({e.Message})";
                    }
                    break;
                default:
                    value = JsonValue.Create(raw);
                    break;
            }
            conf[field.Name] = value;
        }
        return null;
    }

    private static string? TypeOf(JsonObject property) => property["type"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        // ["string", "null"]: the first non-null type.
        JsonArray a => a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).FirstOrDefault(s => s is not null and not "null"),
        _ => null,
    };

    private static string Display(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "null";
}
