using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Workers;

public sealed class HttpAndSqlTaskTests(ServerFixture server) : ServerTest(server)
{
    /// <summary>A real HTTP listener on loopback that records what it receives.</summary>
    private sealed class Listener : IDisposable
    {
        private readonly HttpListener _listener = new();
        public ConcurrentQueue<(string Method, string Path, string? Key, string Body, string? ContentType)> Requests { get; } = new();
        public int Port { get; }

        public Listener(Func<string, int> status, TimeSpan? delay = null)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext ctx;
                    try { ctx = await _listener.GetContextAsync(); } catch { return; }
                    using var reader = new StreamReader(ctx.Request.InputStream);
                    var body = await reader.ReadToEndAsync();
                    Requests.Enqueue((ctx.Request.HttpMethod, ctx.Request.Url!.AbsolutePath, ctx.Request.Headers["Idempotency-Key"], body, ctx.Request.ContentType));
                    if (delay is { } wait)
                        _ = Task.Delay(wait).ContinueWith(_ => { try { ctx.Response.Close(); } catch { } }, TaskScheduler.Default);
                    if (delay is not null)
                        continue;
                    ctx.Response.StatusCode = status(ctx.Request.Url!.AbsolutePath);
                    var payload = System.Text.Encoding.UTF8.GetBytes($"{{\"echo\":\"{ctx.Request.Url!.AbsolutePath}\"}}");
                    await ctx.Response.OutputStream.WriteAsync(payload);
                    ctx.Response.Close();
                }
            });
        }

        public void Dispose() => _listener.Close();
    }

    [Fact]
    public async Task Http_SendsMethodBodyAndIdempotencyKey_AndChecksStatus()
    {
        using var listener = new Listener(path => path == "/broken" ? 500 : path == "/accepted" ? 202 : 200);
        var url = $"http://127.0.0.1:{listener.Port}";
        await Admin.PostJsonAsync("dags", $$"""
            {"name":"web","tasks":[
              {"id":"get","type":"http","uri":"{{url}}/data"},
              {"id":"post","type":"http","uri":"{{url}}/ingest","method":"POST","body":{"rows":3},"headers":{"X-Team":"data"},"depends_on":["get"]},
              {"id":"accepted","type":"http","uri":"{{url}}/accepted","expect_status":[202]},
              {"id":"broken","type":"http","uri":"{{url}}/broken"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("web"));
        var runId = run.GetProperty("run_id").GetInt64();
        Assert.Equal("success", RunHelpers.State(run, "get"));
        Assert.Equal("success", RunHelpers.State(run, "post"));
        Assert.Equal("success", RunHelpers.State(run, "accepted"));
        Assert.Equal("failed", RunHelpers.State(run, "broken"));
        Assert.Equal(500, RunHelpers.Task(run, "broken").GetProperty("attempts")[0].GetProperty("code").GetInt32());
        var post = listener.Requests.Single(r => r.Path == "/ingest");
        Assert.Equal("POST", post.Method);
        Assert.Equal($"{runId}:post:1", post.Key);
        Assert.Equal("{\"rows\":3}", post.Body);
        Assert.StartsWith("application/json", post.ContentType);
        using var log = await Viewer.GetAsync($"runs/{runId}/tasks/get/logs");
        var text = await log.Content.ReadAsStringAsync();
        Assert.Contains($"GET {url}/data", text);
        Assert.Contains("\"echo\":\"/data\"", text);
    }

    [Fact]
    public async Task Cancel_AbortsAnHttpCallInFlight()
    {
        using var listener = new Listener(_ => 200, TimeSpan.FromSeconds(60));
        await Admin.PostJsonAsync("dags", $$"""{"name":"hang","tasks":[{"id":"call","type":"http","uri":"http://127.0.0.1:{{listener.Port}}/slow"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("hang");
        await Viewer.WaitForTaskAsync(runId, "call", "running");
        while (listener.Requests.IsEmpty)
            await Task.Delay(20);
        var cancelledAt = DateTimeOffset.UtcNow;
        await Operator.PostAsync($"runs/{runId}/cancel", null).ExpectAsync(HttpStatusCode.OK);
        // The worker stops the attempt at once; its late report is ignored but keeps the log.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string log;
        do
        {
            await Task.Delay(100);
            using var response = await Viewer.GetAsync($"runs/{runId}/tasks/call/logs");
            log = await response.Content.ReadAsStringAsync();
        } while (!log.Contains("cancelled") && DateTime.UtcNow < deadline);
        Assert.Contains("cancelled", log);
        Assert.True(DateTimeOffset.UtcNow - cancelledAt < TimeSpan.FromSeconds(10));
        var run = await Viewer.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("cancelled", RunHelpers.State(run, "call"));
    }

    [Fact]
    public async Task Http_FailsOnTheDefaultRequestTimeout_WhenTheEndpointNeverAnswers()
    {
        // The fixture sets Workers:HttpTimeoutSeconds to 5; the task sets no timeout of its own.
        using var listener = new Listener(_ => 200, TimeSpan.FromSeconds(120));
        await Admin.PostJsonAsync("dags", $$"""{"name":"silent","tasks":[{"id":"call","type":"http","uri":"http://127.0.0.1:{{listener.Port}}/never","retries":0}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("silent"), TimeSpan.FromSeconds(30));
        Assert.Equal("failed", RunHelpers.State(run, "call"));
        var error = RunHelpers.Task(run, "call").GetProperty("attempts")[0].GetProperty("error").GetString();
        Assert.Contains("no response within 5 s", error);
    }

    [Fact]
    public async Task Http_FailsClearly_WhenNothingListens()
    {
        await Admin.PostJsonAsync("dags", """{"name":"closed","tasks":[{"id":"x","type":"http","uri":"http://127.0.0.1:9/data"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("closed"));
        Assert.Equal("failed", RunHelpers.State(run, "x"));
        Assert.False(string.IsNullOrEmpty(RunHelpers.Task(run, "x").GetProperty("attempts")[0].GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Sql_RunsOnStoredConnection_AndUnknownConnectionFails()
    {
        var body = new { name = "testdb", kind = "postgres", description = "the test database", connection_string = TestDatabase.ConnectionString };
        await Admin.PostJsonAsync("connections", body).ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """
            {"name":"etl","tasks":[
              {"id":"load","type":"sql","connection":"testdb","statement":"create table if not exists public.sql_task_probe (n int); insert into public.sql_task_probe values (1), (2); select count(*) as rows from public.sql_task_probe"},
              {"id":"missing","type":"sql","connection":"nope","statement":"select 1"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("etl"));
        Assert.Equal("success", RunHelpers.State(run, "load"));
        Assert.Equal("failed", RunHelpers.State(run, "missing"));
        Assert.Equal("no connection named 'nope'", RunHelpers.Task(run, "missing").GetProperty("attempts")[0].GetProperty("error").GetString());
        Assert.Equal(2L, await TestDatabase.ScalarAsync<long>("select count(*) from public.sql_task_probe"));
        using var log = await Viewer.GetAsync($"runs/{run.GetProperty("run_id").GetInt64()}/tasks/load/logs");
        Assert.Contains("(1 row)", await log.Content.ReadAsStringAsync());
        await TestDatabase.ScalarAsync<int>("drop table public.sql_task_probe");
    }

    [Fact]
    public async Task SqlOutput_IsTheLastResultsRows_CappedAt1000_AndFlowsDownstream()
    {
        var body = new { name = "outdb", kind = "postgres", description = "the test database", connection_string = TestDatabase.ConnectionString };
        await Admin.PostJsonAsync("connections", body).ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """
            {"name":"sql-output","tasks":[
              {"id":"few","type":"sql","connection":"outdb","statement":"select 1 as ignored; select n, n * 2 as twice, 'r' || n as label from generate_series(1, 3) n"},
              {"id":"many","type":"sql","connection":"outdb","statement":"select n from generate_series(1, 1005) n"},
              {"id":"none","type":"sql","connection":"outdb","statement":"create temporary table sql_output_probe (n int)"},
              {"id":"use","type":"shell","command":"echo '{\"second\": {{ outputs.few.rows[1].twice }}, \"label\": \"{{ outputs.few.rows[2].label }}\"}' > \"$SCHEDULER_OUTPUT\"","depends_on":["few"]}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("sql-output"));
        var runId = run.GetProperty("run_id").GetInt64();
        Assert.Equal("success", run.GetProperty("state").GetString());

        var few = await Viewer.GetAsync($"runs/{runId}/tasks/few/output").ExpectAsync(HttpStatusCode.OK);
        var rows = few.GetProperty("rows");
        Assert.Equal(3, rows.GetArrayLength());
        Assert.Equal(4, rows[1].GetProperty("twice").GetInt32());
        Assert.Equal("r3", rows[2].GetProperty("label").GetString());
        Assert.False(few.TryGetProperty("truncated", out _));
        var many = await Viewer.GetAsync($"runs/{runId}/tasks/many/output").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1000, many.GetProperty("rows").GetArrayLength());
        Assert.True(many.GetProperty("truncated").GetBoolean());
        await Viewer.GetAsync($"runs/{runId}/tasks/none/output").ExpectProblemAsync(HttpStatusCode.NotFound);
        var use = await Viewer.GetAsync($"runs/{runId}/tasks/use/output").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(4, use.GetProperty("second").GetInt32());
        Assert.Equal("r3", use.GetProperty("label").GetString());
    }

    [Fact]
    public async Task Connections_NeverRevealTheSecret_AndStoreItEncrypted()
    {
        const string secret = "Host=127.0.0.1;Port=5432;Database=warehouse;Username=etl;Password=hunter2-very-secret";
        var created = await Admin.PostJsonAsync("connections", new { name = "wh", kind = "postgres", connection_string = secret }).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("127.0.0.1", created.GetProperty("host").GetString());
        Assert.Equal("warehouse", created.GetProperty("database").GetString());
        await Admin.PostJsonAsync("connections", new { name = "wh", kind = "postgres", connection_string = secret }).ExpectProblemAsync(HttpStatusCode.Conflict);
        foreach (var path in new[] { "connections", "connections/wh" })
        {
            using var response = await Admin.GetAsync(path);
            Assert.DoesNotContain("hunter2", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from workers.connections where secret like '%hunter2%'"));
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(*) from workers.connections where name = 'wh'"));
        await Admin.PutJsonAsync("connections/wh", """{"kind":"postgres","connection_string":"Host=db2;Database=x"}""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("db2", (await Admin.GetAsync("connections/wh").ExpectAsync(HttpStatusCode.OK)).GetProperty("host").GetString());
        await Operator.GetAsync("connections").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Viewer.GetAsync("connections/wh").ExpectProblemAsync(HttpStatusCode.Forbidden);
        var invalid = await Admin.PostJsonAsync("connections", new { name = "bad", kind = "postgres", connection_string = "this is not one" }).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(invalid.Errors("connection_string"));
        var kind = await Admin.PostJsonAsync("connections", new { name = "bad", kind = "oracle", connection_string = "x" }).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(kind.Errors("kind"));
        await Admin.DeleteAsync("connections/wh").ExpectAsync(HttpStatusCode.NoContent);
        await Admin.DeleteAsync("connections/wh").ExpectProblemAsync(HttpStatusCode.NotFound);
    }
}
