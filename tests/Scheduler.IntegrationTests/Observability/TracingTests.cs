using System.Net;
using System.Text;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Observability;

/// <summary>
/// One trace per run, exported over OTLP to a real receiver on loopback: the run joins the
/// trigger's trace, every attempt is a span under the run's, and the http and sql work inside
/// an attempt are the attempt's children; http tasks send the attempt's traceparent and shell
/// tasks get it as TRACEPARENT.
/// </summary>
public sealed class TracingTests(ServerFixture server) : ServerTest(server)
{
    private const string CallerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string CallerSpan = "00f067aa0ba902b7";

    [Fact]
    public async Task Run_JoinsTheTriggersTrace_WithASpanPerAttempt_AndChildSpansOfItsCalls()
    {
        using var listener = new RecordingListener();
        await Admin.PostJsonAsync("connections", new { name = "tracedb", kind = "postgres", connection_string = TestDatabase.ConnectionString }).ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", $$"""
            {"name":"traced","tasks":[
              {"id":"sh","type":"shell","command":"echo tp=$TRACEPARENT"},
              {"id":"call","type":"http","uri":"{{listener.Url}}/hook","depends_on":["sh"]},
              {"id":"query","type":"sql","connection":"tracedb","statement":"select 1 as one","depends_on":["sh"]},
              {"id":"flaky","type":"shell","command":"test $SCHEDULER_ATTEMPT -ge 2","retries":1,"retry_delay":0}]}
            """).ExpectAsync(HttpStatusCode.Created);
        using var trigger = new HttpRequestMessage(HttpMethod.Post, "dags/traced/runs") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        trigger.Headers.Add("traceparent", $"00-{CallerTrace}-{CallerSpan}-01");
        // A client of its own: this process's HttpClient would otherwise start a trace of its
        // own for the request (the server's tracer listens in the same process) and send that.
        using var caller = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = Admin.BaseAddress };
        caller.DefaultRequestHeaders.Add("X-Api-Key", ServerFixture.BootstrapKey);
        var created = await caller.SendAsync(trigger).ExpectAsync(HttpStatusCode.Created);
        var runId = created.GetProperty("run_id").GetInt64();
        Assert.Equal(CallerTrace, created.GetProperty("trace_id").GetString());

        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(CallerTrace, run.GetProperty("trace_id").GetString());

        // The run's own span, under the trigger request's server span, under the caller's; one
        // span per attempt under the run's.
        var runSpan = Assert.Single(await Server.Traces.WaitForAsync(s => s.TraceId == CallerTrace && s.Name == "run traced"));
        var request = Assert.Single(await Server.Traces.WaitForAsync(s => s.SpanId == runSpan.ParentSpanId));
        Assert.Equal((CallerSpan, "Microsoft.AspNetCore"), (request.ParentSpanId, request.Scope));
        Assert.Equal(runId.ToString(System.Globalization.CultureInfo.InvariantCulture), runSpan.Attributes["scheduler.run_id"]);
        var attempts = await Server.Traces.WaitForAsync(s => s.TraceId == CallerTrace && s.Name.StartsWith("task traced.", StringComparison.Ordinal), count: 5);
        Assert.All(attempts, a => Assert.Equal(runSpan.SpanId, a.ParentSpanId));
        Assert.Equal(["call", "flaky", "flaky", "query", "sh"], attempts.Select(a => a.Attributes["scheduler.task_id"]).Order());
        var flaky = attempts.Where(a => a.Attributes["scheduler.task_id"] == "flaky").OrderBy(a => a.Attributes["scheduler.attempt"]).ToList();
        Assert.Equal(["failed", "success"], flaky.Select(a => a.Attributes["scheduler.state"]));
        Assert.Equal(2, flaky[0].StatusCode); // STATUS_CODE_ERROR
        Assert.All(attempts, a => Assert.Equal(runId.ToString(System.Globalization.CultureInfo.InvariantCulture), a.Attributes["scheduler.run_id"]));

        // The http task's request: a client span under its attempt, and the traceparent sent on the wire.
        var call = attempts.Single(a => a.Attributes["scheduler.task_id"] == "call");
        var client = Assert.Single(await Server.Traces.WaitForAsync(s => s.TraceId == CallerTrace && s.ParentSpanId == call.SpanId && s.Scope == "System.Net.Http"));
        var received = Assert.Single(listener.Requests);
        Assert.Equal($"00-{CallerTrace}-{client.SpanId}-01", received.Headers["traceparent"]);

        // The sql task's statement: an Npgsql span under its attempt.
        var query = attempts.Single(a => a.Attributes["scheduler.task_id"] == "query");
        await Server.Traces.WaitForAsync(s => s.TraceId == CallerTrace && s.ParentSpanId == query.SpanId && s.Scope == "Npgsql");

        // The shell task saw its own attempt's span as TRACEPARENT.
        var shell = attempts.Single(a => a.Attributes["scheduler.task_id"] == "sh");
        var log = await Viewer.GetAsync($"runs/{runId}/tasks/sh/logs");
        Assert.Contains($"tp=00-{CallerTrace}-{shell.SpanId}-01", await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RunWithoutACaller_StartsATraceOfItsOwn_AndScheduledRunsToo()
    {
        await Admin.PostJsonAsync("dags", """{"name":"alone","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var first = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("alone"));
        var second = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("alone"));
        var traces = new[] { first, second }.Select(r => r.GetProperty("trace_id").GetString()!).ToList();
        Assert.All(traces, t => Assert.Matches("^[0-9a-f]{32}$", t));
        Assert.NotEqual(traces[0], traces[1]);
        foreach (var trace in traces)
        {
            var runSpan = Assert.Single(await Server.Traces.WaitForAsync(s => s.TraceId == trace && s.Name == "run alone"));
            await Server.Traces.WaitForAsync(s => s.TraceId == trace && s.Name == "task alone.a" && s.ParentSpanId == runSpan.SpanId);
        }
        // The listed runs carry it too.
        var listed = await Viewer.GetAsync("dags/alone/runs").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(traces.Order(), listed.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("trace_id").GetString()!).Order());
    }
}
