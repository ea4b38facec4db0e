using System.Text.Json;
using System.Text.Json.Serialization;

namespace Scheduler.Infrastructure.Json;

/// <summary>
/// The wire format of the API: snake_case names, enums as snake_case strings, durations as
/// ISO-8601 or seconds. Strict on input so that a typo or a wrong type is a 400, never a
/// silently dropped value.
/// </summary>
internal static class JsonConventions
{
    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowDuplicateProperties = false;
        options.ReadCommentHandling = JsonCommentHandling.Disallow;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.Converters.Add(new DurationJsonConverter());
        options.Converters.Add(new InstantJsonConverter());
        options.Converters.Add(new JsonNodeConverter<System.Text.Json.Nodes.JsonNode>());
        options.Converters.Add(new JsonNodeConverter<System.Text.Json.Nodes.JsonObject>());
        options.Converters.Add(new JsonNodeConverter<System.Text.Json.Nodes.JsonArray>());
    }

    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
