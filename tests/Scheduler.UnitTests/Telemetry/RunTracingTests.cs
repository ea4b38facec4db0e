using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Scheduler.Infrastructure.Telemetry;

namespace Scheduler.UnitTests.Telemetry;

/// <summary>
/// Without an exporter nothing listens to the Scheduler source: the ids a run carries must
/// still be made and passed on (run JSON, http tasks' traceparent, shell tasks' TRACEPARENT).
/// </summary>
public sealed class RunTracingTests
{
    private const string Run = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public void NewTraceParent_StartsATrace_OrContinuesTheParents()
    {
        var fresh = RunTracing.NewTraceParent(default);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", fresh);
        Assert.NotEqual(fresh, RunTracing.NewTraceParent(default));
        var parent = ActivityContext.Parse(Run, null);
        var child = RunTracing.NewTraceParent(parent);
        Assert.StartsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-", child);
        Assert.DoesNotContain("00f067aa0ba902b7", child);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", RunTracing.TraceId(child));
        Assert.Null(RunTracing.TraceId(null));
        Assert.Null(RunTracing.TraceId("garbage"));
    }

    [Fact]
    public async Task AttemptWithoutAListener_IsStillTheAmbientSpan_AndHttpRequestsCarryIt()
    {
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = listener.GetContextAsync();

        using (var attempt = RunTracing.StartAttempt(Run, "d", 1, "t", 1, "http"))
        {
            Assert.Same(attempt, Activity.Current);
            Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", attempt.TraceId.ToHexString());
            Assert.Equal("00f067aa0ba902b7", attempt.ParentSpanId.ToHexString());
            using var client = new HttpClient();
            var sending = client.GetAsync($"http://127.0.0.1:{port}/");
            var context = await received;
            // HttpClient's own span under the attempt's: the run's trace, a span of its own.
            Assert.Matches("^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$", context.Request.Headers["traceparent"]);
            context.Response.Close();
            (await sending).Dispose();
        }
        Assert.Null(Activity.Current);
    }

    [Fact]
    public void AttemptOfARunWithoutATrace_StartsOne()
    {
        using var attempt = RunTracing.StartAttempt(null, "d", 1, "t", 1, "noop");
        Assert.NotEqual(default, attempt.TraceId);
        Assert.Equal(ActivityIdFormat.W3C, attempt.IdFormat);
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
