using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Scheduler.Infrastructure.OpenApi;

/// <summary>
/// Types whose JSON the reflected schema would get wrong. Durations are ISO-8601 strings
/// (<c>PT30S</c>, <c>Infrastructure/Json/DurationJsonConverter</c>), not .NET's <c>00:00:30</c>,
/// so they are plain strings: a generator that maps a duration format to its own TimeSpan type
/// would send a value the server refuses.
/// JSON values the API passes through as they are (params, conf, outputs, plugin settings):
/// free-form schemas, so a generator makes them its "any JSON" type instead of a model of
/// <see cref="JsonNode"/>'s own properties.
/// </summary>
internal static class JsonShapes
{
    public static void Map(SwaggerGenOptions options)
    {
        foreach (var type in new[] { typeof(TimeSpan), typeof(TimeSpan?) })
            options.MapType(type, () => new OpenApiSchema { Type = JsonSchemaType.String, Description = "An ISO-8601 duration (PT30S, P1DT2H) or a number of seconds." });
        foreach (var type in new[] { typeof(JsonNode), typeof(JsonValue), typeof(JsonElement), typeof(JsonDocument), typeof(JsonElement?) })
            options.MapType(type, () => new OpenApiSchema { Description = "Any JSON value." });
        options.MapType<JsonObject>(() => new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalPropertiesAllowed = true, Description = "Any JSON object." });
        options.MapType<JsonArray>(() => new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema(), Description = "Any JSON array." });
    }
}
