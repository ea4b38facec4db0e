using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Abstractions;
using Microsoft.Extensions.Options;
using Scheduler.Modules.Workers.Executors;
using Scheduler.Modules.Workers.Pool;
using static Scheduler.UnitTests.Workers.ExecutorTestKit;

namespace Scheduler.UnitTests.Workers;

/// <summary>The http executor against a real listener on loopback.</summary>
public sealed class HttpExecutorTests : IDisposable
{
    private sealed record Received(string Method, string Path, string? Key, string? Team, string? ContentType, string Body);

    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<Received> _received = new();
    private readonly ServiceProvider _services;
    private readonly HttpExecutor _http;
    private readonly string _base;

    public HttpExecutorTests()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _base = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(_base + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
        _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        _http = new HttpExecutor(_services.GetRequiredService<IHttpClientFactory>(), Options.Create(new WorkerOptions()), TimeProvider.System);
    }

    public void Dispose()
    {
        _listener.Close();
        _services.Dispose();
    }

    /// <summary>/status/{code} answers with that code; /slow never answers in time; anything else 200 with an echo.</summary>
    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); } catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            _ = Task.Run(async () =>
            {
                var request = ctx.Request;
                using var reader = new StreamReader(request.InputStream);
                var body = await reader.ReadToEndAsync();
                var path = request.Url!.AbsolutePath;
                _received.Enqueue(new Received(request.HttpMethod, path, request.Headers["Idempotency-Key"], request.Headers["X-Team"], request.ContentType, body));
                if (path == "/slow")
                    await Task.Delay(TimeSpan.FromSeconds(30));
                try
                {
                    ctx.Response.StatusCode = path.StartsWith("/status/", StringComparison.Ordinal) ? int.Parse(path["/status/".Length..]) : 200;
                    await ctx.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(path == "/big" ? new string('x', 10_000) : $"echo {path}"));
                    ctx.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    // The client went away (the cancellation test) or the listener closed.
                }
            });
        }
    }

    private async Task<(TaskOutcome Outcome, string Log)> RunAsync(JsonObject task, CancellationToken ct = default)
    {
        var log = new RecordingLog();
        var outcome = await _http.ExecuteAsync(Context(task, log), ct);
        return (outcome, log.Text);
    }

    [Fact]
    public async Task Execute_GetsWithIdempotencyKeyAndHeaders_AndLogsTheExchange()
    {
        var (outcome, log) = await RunAsync(new JsonObject { ["uri"] = $"{_base}/data", ["headers"] = new JsonObject { ["X-Team"] = "data" } });
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
        Assert.Equal(200, outcome.Code);
        var request = Assert.Single(_received);
        Assert.Equal(("GET", "/data", "42:t1:1", "data"), (request.Method, request.Path, request.Key, request.Team));
        Assert.Contains($"GET {_base}/data\n", log);
        Assert.Matches(@"200 OK in \d+ ms", log);
        Assert.Contains("echo /data", log);
    }

    [Fact]
    public async Task Execute_SendsJsonOrText_DependingOnTheBody()
    {
        await RunAsync(new JsonObject { ["uri"] = $"{_base}/json", ["method"] = "post", ["body"] = new JsonObject { ["rows"] = 3 } });
        await RunAsync(new JsonObject { ["uri"] = $"{_base}/text", ["method"] = "PUT", ["body"] = "plain words" });
        var json = _received.Single(r => r.Path == "/json");
        Assert.Equal("POST", json.Method);
        Assert.Equal("{\"rows\":3}", json.Body);
        Assert.StartsWith("application/json", json.ContentType);
        var text = _received.Single(r => r.Path == "/text");
        Assert.Equal("PUT", text.Method);
        Assert.Equal("plain words", text.Body);
        Assert.StartsWith("text/plain", text.ContentType);
    }

    [Fact]
    public async Task Execute_FailsWithTheStatus_WhenServerAnswers500()
    {
        var (outcome, log) = await RunAsync(new JsonObject { ["uri"] = $"{_base}/status/500" });
        Assert.Equal(TaskOutcomeKind.Failed, outcome.Kind);
        Assert.Equal(500, outcome.Code);
        Assert.Contains("500", log);
    }

    [Fact]
    public async Task Execute_UsesExpectStatus_WhenGiven()
    {
        var (notFoundExpected, _) = await RunAsync(new JsonObject { ["uri"] = $"{_base}/status/404", ["expect_status"] = new JsonArray(404, 410) });
        Assert.Equal(TaskOutcomeKind.Success, notFoundExpected.Kind);
        Assert.Equal(404, notFoundExpected.Code);
        var (okNotExpected, _) = await RunAsync(new JsonObject { ["uri"] = $"{_base}/status/200", ["expect_status"] = new JsonArray(201) });
        Assert.Equal(TaskOutcomeKind.Failed, okNotExpected.Kind);
        Assert.Equal(200, okNotExpected.Code);
    }

    private HttpExecutor WithRequestTimeout(double seconds) =>
        new(_services.GetRequiredService<IHttpClientFactory>(), Options.Create(new WorkerOptions { HttpTimeoutSeconds = seconds }), TimeProvider.System);

    [Fact]
    public async Task Execute_FailsOnTheRequestTimeout_WhenTheTaskSetsNoTimeout()
    {
        var outcome = await WithRequestTimeout(0.3).ExecuteAsync(Context(new JsonObject { ["uri"] = $"{_base}/slow" }, new RecordingLog()), CancellationToken.None);
        Assert.Equal(TaskOutcomeKind.Failed, outcome.Kind);
        Assert.StartsWith("no response within 0.3 s", outcome.Error);
    }

    [Fact]
    public async Task Execute_IgnoresTheRequestTimeout_WhenTheTaskSetsItsOwn()
    {
        // The task's own timeout is the worker's to enforce, through the token (fired here after 1 s).
        using var taskTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var context = Context(new JsonObject { ["uri"] = $"{_base}/slow" }, new RecordingLog(), timeout: TimeSpan.FromSeconds(1));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => WithRequestTimeout(0.3).ExecuteAsync(context, taskTimeout.Token));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(0.9));
    }

    [Fact]
    public async Task Execute_LogsOnlyTheStartOfTheBody_WhenTheResponseIsLarge()
    {
        var (outcome, log) = await RunAsync(new JsonObject { ["uri"] = $"{_base}/big" });
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
        Assert.InRange(log.Count(c => c == 'x'), 4000, 4096);
        Assert.Contains("truncated", log);
    }

    [Fact]
    public async Task Execute_AbortsTheRequest_WhenCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var running = RunAsync(new JsonObject { ["uri"] = $"{_base}/slow" }, cancel.Token);
        Assert.True(await EventuallyAsync(() => _received.Any(r => r.Path == "/slow"), TimeSpan.FromSeconds(3)));
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }
}
