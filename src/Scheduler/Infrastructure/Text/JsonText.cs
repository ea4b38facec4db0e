using System.Text.Json;

namespace Scheduler.Infrastructure.Text;

/// <summary>
/// Finds the first string or property name of a JSON document that is not storable text, or
/// the first duplicate property name at any depth: the serializer refuses duplicates of typed
/// fields itself, but inside free-form values (conf, params, settings) it would keep one of
/// them silently or throw an exception that is not a JsonException.
/// </summary>
internal static class JsonText
{
    public readonly record struct Finding(string Path, string Message);

    /// <summary>
    /// The first refused string with its field path (<c>conf.x</c>, <c>tasks[0].env</c>), or null
    /// when every string is storable or the document does not parse (its binding says why).
    /// </summary>
    public static Finding? FirstRefused(string json) => FirstRefused(System.Text.Encoding.UTF8.GetBytes(json));

    /// <inheritdoc cref="FirstRefused(string)"/>
    public static Finding? FirstRefused(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        var path = new List<Segment>();
        Finding? first = null;
        try
        {
            // Read to the end even after a finding: a document that does not parse is
            // "Malformed JSON" whatever it holds, as without this check.
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        Enter(path, reader.TokenType == JsonTokenType.StartArray);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        var names = path[^1].Names!;
                        path[^1] = path[^1] with { Name = null };
                        if (!IsStorable(ref reader, out var name))
                            first ??= new Finding(Format(path), "a property name " + PostgresText.Refused);
                        path[^1] = path[^1] with { Name = name };
                        if (name is not null && !names.Add(name))
                            first ??= new Finding(Format(path), "duplicate property");
                        break;
                    default:
                        if (path.Count > 0 && path[^1].Index is not null)
                            path[^1] = path[^1] with { Index = path[^1].Index + 1 };
                        if (reader.TokenType == JsonTokenType.String && first is null && !IsStorable(ref reader, out _))
                            first = new Finding(Format(path), PostgresText.Refused);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
        return first;
    }

    /// <summary>An object level has the current property's name and the names seen so far; an array level the current element's index (-1 before the first).</summary>
    private readonly record struct Segment(string? Name, int? Index, HashSet<string>? Names);

    private static void Enter(List<Segment> path, bool array)
    {
        // A container is itself an element of the array that holds it.
        if (path.Count > 0 && path[^1].Index is not null)
            path[^1] = path[^1] with { Index = path[^1].Index + 1 };
        path.Add(array ? new Segment(null, -1, null) : new Segment(null, null, new HashSet<string>(StringComparer.Ordinal)));
    }

    private static bool IsStorable(ref Utf8JsonReader reader, out string? text)
    {
        text = null;
        // Unescaped JSON text cannot hold a NUL (a control character) and, when it is valid
        // UTF-8, no lone surrogate: checking the bytes avoids decoding every string.
        if (!reader.ValueIsEscaped && reader.TokenType != JsonTokenType.PropertyName)
            return System.Text.Unicode.Utf8.IsValid(reader.ValueSpan);
        try
        {
            text = reader.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate or invalid UTF-8 does not decode.
            return false;
        }
        return text is null || PostgresText.IsStorable(text);
    }

    private static string Format(List<Segment> path)
    {
        var text = new System.Text.StringBuilder();
        foreach (var segment in path)
        {
            if (segment.Index is { } index)
                text.Append('[').Append(index < 0 ? 0 : index).Append(']');
            else if (segment.Name is { } name)
                text.Append(text.Length == 0 ? "" : ".").Append(name);
        }
        return text.Length == 0 ? "$" : text.ToString();
    }
}
