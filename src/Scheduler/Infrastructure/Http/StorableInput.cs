using System.Text.Json;
using FluentValidation;
using FluentValidation.Results;
using Scheduler.Infrastructure.Text;

namespace Scheduler.Infrastructure.Http;

/// <summary>
/// The one gate for text PostgreSQL refuses (U+0000, a lone surrogate, bytes that are not
/// UTF-8): every query key and value, every route value and every string and property name of
/// a JSON body is checked before an endpoint runs, so no handler, validator or plugin field can
/// forget it, and such input is a 400 naming the field instead of a 500 from the database. A
/// JSON body that does not parse is left to the endpoint, whose binding answers "Malformed
/// JSON" as before; only what parses is scanned here.
/// </summary>
internal sealed class StorableInput(RequestDelegate next)
{
    public const string Message = "must not contain U+0000 (NUL), a lone UTF-16 surrogate or bytes that are not UTF-8: such text cannot be stored.";

    public async Task InvokeAsync(HttpContext context)
    {
        // No endpoint, or routing's own 404/405/415 answer: nothing will read the input.
        if (context.GetEndpoint() is not RouteEndpoint endpoint)
        {
            await next(context);
            return;
        }
        var request = context.Request;
        foreach (var (key, values) in request.Query)
        {
            if (!PostgresText.IsStorable(key))
                throw Refused(PostgresText.Clean(key), "a query parameter's name " + Message);
            foreach (var value in values)
                if (value is not null && !PostgresText.IsStorable(value))
                    throw Refused(key, Message);
        }
        foreach (var (key, value) in request.RouteValues)
            if (value is string text && !PostgresText.IsStorable(text))
                throw Refused(key, Message);
        if (ReadsJson(endpoint) && HasJsonBody(request))
        {
            var body = await ReadBodyAsync(request, context.RequestAborted);
            if (JsonText.FirstRefused(body) is { } refused)
                throw Refused(refused.Path, refused.Message);
            request.Body = new MemoryStream(body, writable: false);
        }
        await next(context);
    }

    private static ValidationException Refused(string field, string message) => new([new ValidationFailure(field, message)]);

    /// <summary>Only an endpoint that takes a JSON body reads one; a body sent to any other is ignored, so it is not scanned.</summary>
    private static bool ReadsJson(RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { } accepts && accepts.ContentTypes.Any(IsJson);

    private static bool HasJsonBody(HttpRequest request) =>
        request.ContentLength != 0 && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && IsJson(type.MediaType.Value ?? "");

    /// <summary>The media types minimal APIs bind as JSON: application/json and any +json.</summary>
    private static bool IsJson(string media) =>
        media.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The whole body; Kestrel's size limit still applies (a 413 while reading).</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = request.ContentLength is { } length and <= HttpSetup.MaxRequestBodyBytes ? new MemoryStream((int)length) : new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }
}

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
                            first ??= new Finding(Format(path), "a property name " + StorableInput.Message);
                        path[^1] = path[^1] with { Name = name };
                        if (name is not null && !names.Add(name))
                            first ??= new Finding(Format(path), "duplicate property");
                        break;
                    default:
                        if (path.Count > 0 && path[^1].Index is not null)
                            path[^1] = path[^1] with { Index = path[^1].Index + 1 };
                        if (reader.TokenType == JsonTokenType.String && first is null && !IsStorable(ref reader, out _))
                            first = new Finding(Format(path), StorableInput.Message);
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
