using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;

namespace Scheduler.Infrastructure.Json;

/// <summary>
/// Reads a duration as an ISO-8601 string (<c>PT30S</c>, <c>P1DT2H</c>) or a number of seconds;
/// writes ISO-8601, so a definition's canonical form does not depend on how it was sent.
/// Negative and non-finite values are rejected here; ranges are the validators' business.
/// </summary>
internal sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (!reader.TryGetDouble(out var seconds) || !double.IsFinite(seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
                    throw new JsonException("A duration in seconds must be a non-negative number.");
                return TimeSpan.FromSeconds(seconds);
            case JsonTokenType.String:
                return Parse(reader.GetString()!) ?? throw new JsonException("A duration must be ISO-8601 (e.g. \"PT30S\") or a number of seconds.");
            default:
                throw new JsonException("A duration must be ISO-8601 (e.g. \"PT30S\") or a number of seconds.");
        }
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(XmlConvert.ToString(value));

    /// <summary>ISO-8601 durations without years or months (their length is not fixed).</summary>
    public static TimeSpan? Parse(string text)
    {
        text = text.Trim();
        if (text.Length < 2 || text[0] != 'P' || text.Contains('Y') || text.Contains('-'))
            return null;
        var datePart = text.Split('T')[0];
        if (datePart.Contains('M'))
            return null;
        try
        {
            return XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            return null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }
}
