using FluentValidation;
using FluentValidation.Results;
using Scheduler.Infrastructure.Text;

namespace Scheduler.Infrastructure.Http;

/// <summary>
/// The one gate for text PostgreSQL refuses (U+0000, a lone surrogate, bytes that are not
/// UTF-8): every query key and value, every route value, every form field (the admin pages)
/// and every string and property name of a JSON body is checked before an endpoint runs, so no
/// handler, validator or plugin field can forget it, and such input is a 400 naming the field
/// instead of a 500 from the database. A JSON body that does not parse is left to the endpoint,
/// whose binding answers "Malformed JSON" as before; only what parses is scanned here.
/// </summary>
internal sealed class StorableInput(RequestDelegate next)
{
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
                throw Refused(PostgresText.Clean(key), "a query parameter's name " + PostgresText.Refused);
            foreach (var value in values)
                if (value is not null && !PostgresText.IsStorable(value))
                    throw Refused(key, PostgresText.Refused);
        }
        foreach (var (key, value) in request.RouteValues)
            if (value is string text && !PostgresText.IsStorable(text))
                throw Refused(key, PostgresText.Refused);
        // The admin pages' forms: a field the browser sent with a NUL in it.
        if (request.HasFormContentType)
            foreach (var (key, values) in await ReadFormAsync(request, context.RequestAborted))
                foreach (var value in values)
                    if (!PostgresText.IsStorable(key) || (value is not null && !PostgresText.IsStorable(value)))
                        throw Refused(PostgresText.Clean(key), PostgresText.Refused);
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

    /// <summary>ASP.NET's form reader refuses a %00 (or a form over its limits) itself, with an InvalidDataException: a 400 too.</summary>
    private static async Task<IFormCollection> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw Refused("$", $"the form cannot be read: {e.Message} A form field {PostgresText.Refused}");
        }
    }

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
        // Sized by Content-Length only up to 64 KiB: a client announcing 16 MiB and sending
        // nothing must not make the server set that aside before a byte arrived.
        using var buffer = new MemoryStream((int)Math.Min(request.ContentLength ?? 0, 64 * 1024));
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }
}
