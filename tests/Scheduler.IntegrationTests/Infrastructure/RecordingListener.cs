using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// A real HTTP server on loopback standing in for Slack, Teams, an SMS API or a webhook
/// receiver: it records every request (headers and body) and answers with the status and
/// body the test chooses per request.
/// </summary>
public sealed class RecordingListener : IDisposable
{
    public sealed record Received(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

    private readonly HttpListener _listener = new();
    private int _count;

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Decides the answer: (1-based request number, path) to (status, body).</summary>
    public Func<int, string, (int Status, string Body)> Respond { get; set; } = (_, _) => (200, "ok");

    /// <summary>When set, the answer's body as raw bytes (binary, not UTF-8 text), in place of <see cref="Respond"/>'s.</summary>
    public Func<int, string, byte[]>? RespondBytes { get; set; }

    /// <summary>Headers added to every answer (a redirect's Location, for example).</summary>
    public Dictionary<string, string> ResponseHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public RecordingListener()
    {
        Port = Loopback.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = ctx.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k, k => ctx.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            Requests.Enqueue(new Received(ctx.Request.HttpMethod, ctx.Request.Url!.AbsolutePath, headers, body));
            var number = Interlocked.Increment(ref _count);
            var (status, answer) = Respond(number, ctx.Request.Url!.AbsolutePath);
            ctx.Response.StatusCode = status;
            foreach (var (name, value) in ResponseHeaders)
                ctx.Response.Headers[name] = value;
            var bytes = RespondBytes?.Invoke(number, ctx.Request.Url!.AbsolutePath) ?? Encoding.UTF8.GetBytes(answer);
            try
            {
                await ctx.Response.OutputStream.WriteAsync(bytes);
                ctx.Response.Close();
            }
            catch (HttpListenerException)
            {
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> requests matching <paramref name="match"/> arrived.</summary>
    public async Task<List<Received>> WaitForAsync(int count, Func<Received, bool>? match = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var found = Requests.Where(r => match?.Invoke(r) ?? true).ToList();
            if (found.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.True(found.Count >= count, $"expected {count} requests, got {found.Count}: {string.Join(" | ", Requests.Select(r => r.Path + " " + r.Body))}");
                return found;
            }
            await Task.Delay(50);
        }
    }

    public void Dispose() => _listener.Close();
}

public static class Loopback
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
