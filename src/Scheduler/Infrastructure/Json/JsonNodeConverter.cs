using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Scheduler.Infrastructure.Json;

/// <summary>
/// JSON the API keeps as it was given (a run's <c>conf</c>, a DAG's <c>params</c>, a channel's
/// <c>settings</c>, an http task's <c>body</c>): its objects compare property names exactly, as
/// JSON does. Under the web defaults System.Text.Json builds them case-insensitive (the typed
/// fields want <c>PropertyNameCaseInsensitive</c>), where <c>{"A":1,"a":2}</c> is a duplicate key
/// and an ArgumentException, i.e. a 500. A real duplicate is a JsonException here, so the client
/// gets a 400 naming the field, as for typed fields.
/// </summary>
internal sealed class JsonNodeConverter<T> : JsonConverter<T> where T : JsonNode
{
    private static readonly JsonNodeOptions Exact = new() { PropertyNameCaseInsensitive = false };

    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(ref reader, Exact);
        }
        catch (ArgumentException e)
        {
            throw new JsonException("A duplicate property.", e);
        }
        return node as T ?? throw new JsonException($"The JSON value could not be converted to {typeof(T)}.");
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => value.WriteTo(writer, options);
}
