using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>A span as the exporter sent it, decoded from OTLP protobuf.</summary>
public sealed record ReceivedSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, string Scope,
    IReadOnlyDictionary<string, string> Attributes, int StatusCode);

/// <summary>
/// An OTLP/HTTP trace receiver on loopback (<c>POST /v1/traces</c>, protobuf): what a collector
/// sees, decoded field by field from the wire format of the published OTLP messages
/// (ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span, KeyValue, AnyValue, Status).
/// Only the fields the tests look at are read; the rest is skipped, as protobuf allows.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private WebApplication _app = null!;

    public string Url { get; private set; } = null!;
    public int Requests;

    public IReadOnlyList<ReceivedSpan> Spans => _spans.ToArray();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        receiver._app = builder.Build();
        receiver._app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in Decode(body.ToArray()))
                receiver._spans.Enqueue(span);
            Interlocked.Increment(ref receiver.Requests);
            // An empty ExportTraceServiceResponse.
            return Results.Bytes([], "application/x-protobuf");
        });
        await receiver._app.StartAsync();
        receiver.Url = receiver._app.Urls.First();
        return receiver;
    }

    /// <summary>Waits until spans matching <paramref name="match"/> number at least <paramref name="count"/>.</summary>
    public async Task<List<ReceivedSpan>> WaitForAsync(Func<ReceivedSpan, bool> match, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var found = _spans.Where(match).ToList();
            if (found.Count >= count)
                return found;
            Assert.True(DateTime.UtcNow < deadline, $"{found.Count} of {count} span(s) received; {_spans.Count} span(s) in {Requests} export(s) in all");
            await Task.Delay(100);
        }
    }

    public void Clear() => _spans.Clear();

    private static IEnumerable<ReceivedSpan> Decode(byte[] request)
    {
        foreach (var (field, resourceSpans) in Wire.Messages(request))
        {
            if (field != 1)
                continue;
            foreach (var (f, scopeSpans) in Wire.Messages(resourceSpans))
            {
                if (f != 2)
                    continue;
                var scope = "";
                var spans = new List<byte[]>();
                foreach (var (g, part) in Wire.Messages(scopeSpans))
                {
                    if (g == 1)
                        scope = Wire.Strings(part).GetValueOrDefault(1, "");
                    else if (g == 2)
                        spans.Add(part);
                }
                foreach (var span in spans)
                    yield return DecodeSpan(span, scope);
            }
        }
    }

    private static ReceivedSpan DecodeSpan(byte[] span, string scope)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        var attributes = new Dictionary<string, string>();
        var status = 0;
        foreach (var (field, value) in Wire.Messages(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = value.Length == 0 ? null : Convert.ToHexStringLower(value); break;
                case 5: name = System.Text.Encoding.UTF8.GetString(value); break;
                case 9:
                    var (key, text) = Wire.KeyValue(value);
                    attributes[key] = text;
                    break;
                case 15: status = (int)Wire.Varints(value).GetValueOrDefault(3); break;
            }
        }
        return new ReceivedSpan(traceId, spanId, parent, name, scope, attributes, status);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>The protobuf wire format, as far as these messages need it.</summary>
    private static class Wire
    {
        /// <summary>The length-delimited fields of a message (sub-messages, strings, bytes), in order.</summary>
        public static List<(int Field, byte[] Value)> Messages(byte[] message)
        {
            var result = new List<(int, byte[])>();
            Walk(message, (field, type, value, bytes) => { if (type == 2) result.Add((field, bytes!)); });
            return result;
        }

        public static Dictionary<int, string> Strings(byte[] message)
        {
            var result = new Dictionary<int, string>();
            Walk(message, (field, type, _, bytes) => { if (type == 2) result[field] = System.Text.Encoding.UTF8.GetString(bytes!); });
            return result;
        }

        public static Dictionary<int, ulong> Varints(byte[] message)
        {
            var result = new Dictionary<int, ulong>();
            Walk(message, (field, type, value, _) => { if (type == 0) result[field] = value; });
            return result;
        }

        /// <summary>A KeyValue: its key and its AnyValue rendered as text (string, bool, int or double).</summary>
        public static (string Key, string Value) KeyValue(byte[] message)
        {
            var key = "";
            var text = "";
            foreach (var (field, value) in Messages(message))
            {
                if (field == 1)
                    key = System.Text.Encoding.UTF8.GetString(value);
                else if (field == 2)
                    Walk(value, (f, type, number, bytes) => text = (f, type) switch
                    {
                        (1, 2) => System.Text.Encoding.UTF8.GetString(bytes!),
                        (2, 0) => number != 0 ? "true" : "false",
                        (3, 0) => ((long)number).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        (4, 1) => BitConverter.Int64BitsToDouble((long)number).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => text,
                    });
            }
            return (key, text);
        }

        private static void Walk(byte[] message, Action<int, int, ulong, byte[]?> visit)
        {
            var i = 0;
            while (i < message.Length)
            {
                var tag = ReadVarint(message, ref i);
                var field = (int)(tag >> 3);
                var type = (int)(tag & 7);
                switch (type)
                {
                    case 0: visit(field, type, ReadVarint(message, ref i), null); break;
                    case 1: visit(field, type, BitConverter.ToUInt64(message, i), null); i += 8; break;
                    case 2:
                        var length = (int)ReadVarint(message, ref i);
                        visit(field, type, 0, message[i..(i + length)]);
                        i += length;
                        break;
                    case 5: visit(field, type, BitConverter.ToUInt32(message, i), null); i += 4; break;
                    default: throw new InvalidDataException($"wire type {type} at byte {i}");
                }
            }
        }

        private static ulong ReadVarint(byte[] message, ref int i)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = message[i++];
                value |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                    return value;
            }
        }
    }
}
