using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Abstractions;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Workers.Executors;

namespace Scheduler.IntegrationTests.Workers;

/// <summary>The connections API beyond the basics, and the sql executor called directly with the server's own registry and resolver.</summary>
public sealed class ConnectionsAndSqlExecutorTests(ServerFixture server) : ServerTest(server)
{
    private sealed class RecordingLog : ITaskLog
    {
        private readonly StringBuilder _text = new();

        public void Write(string text)
        {
            lock (_text)
                _text.Append(text);
        }

        public override string ToString()
        {
            lock (_text)
                return _text.ToString();
        }
    }

    private async Task<TaskOutcome> ExecuteSqlAsync(string connection, string statement, RecordingLog log, CancellationToken ct = default)
    {
        Assert.True(Server.Services.GetRequiredService<ExecutorRegistry>().TryGet("sql", out var sql));
        return await sql.ExecuteAsync(new TaskExecutionContext
        {
            RunId = 1, DagName = "direct", TaskId = "sql_probe", Attempt = 1, LogicalDate = DateTimeOffset.UtcNow, IdempotencyKey = "1:sql_probe:1",
            Task = new JsonObject { ["connection"] = connection, ["statement"] = statement }, Params = [], Log = log,
            Connections = Server.Services.GetRequiredService<IConnectionResolver>(),
        }, ct);
    }

    [Fact]
    public async Task Connections_PageByName_AndPutCreatesThenReplaces()
    {
        var first = await Admin.PutJsonAsync("connections/a.one", """{"kind":"postgres","description":"first","connection_string":"Host=h1;Database=d1"}""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("a.one", first.GetProperty("name").GetString());
        var replaced = await Admin.PutJsonAsync("connections/a.one", """{"kind":"postgres","description":"again","connection_string":"Host=h2;Database=d2"}""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(("again", "h2", "d2"), (replaced.GetProperty("description").GetString(), replaced.GetProperty("host").GetString(), replaced.GetProperty("database").GetString()));
        Assert.Equal(first.GetProperty("created_at").GetString(), replaced.GetProperty("created_at").GetString());
        foreach (var name in new[] { "b-two", "c_three" })
            await Admin.PostJsonAsync("connections", new { name, kind = "postgres", connection_string = "Host=h" }).ExpectAsync(HttpStatusCode.Created);

        var page = await Admin.GetAsync("connections?limit=2").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["a.one", "b-two"], page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        var cursor = page.GetProperty("next_cursor").GetString();
        var rest = await Admin.GetAsync($"connections?limit=2&cursor={Uri.EscapeDataString(cursor!)}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["c_three"], rest.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, rest.GetProperty("next_cursor").ValueKind);
        Assert.All(page.GetProperty("items").EnumerateArray(), i => Assert.False(i.TryGetProperty("connection_string", out _)));

        await Admin.GetAsync("connections/absent").ExpectProblemAsync(HttpStatusCode.NotFound);
        var badName = await Admin.PostJsonAsync("connections", new { name = "has space", kind = "postgres", connection_string = "Host=h" }).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(badName.Errors("name"));
        var missing = await Admin.PostJsonAsync("connections", new { name = "nostring", kind = "postgres" }).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(missing.Errors("connection_string"));
        await Operator.PutJsonAsync("connections/a.one", """{"kind":"postgres","connection_string":"Host=evil"}""").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Viewer.DeleteAsync("connections/a.one").ExpectProblemAsync(HttpStatusCode.Forbidden);
        using var anonymous = await Anonymous.GetAsync("/api/v1/connections");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task SqlExecutor_RunsSeveralStatements_WhenResolvedFromTheServer()
    {
        await Admin.PostJsonAsync("connections", new { name = "self", kind = "postgres", connection_string = TestDatabase.ConnectionString }).ExpectAsync(HttpStatusCode.Created);
        var log = new RecordingLog();
        try
        {
            var outcome = await ExecuteSqlAsync("self", "create table public.exec_sql_probe (n int); insert into public.exec_sql_probe select generate_series(1, 30); select n from public.exec_sql_probe order by n", log);
            Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
            Assert.Equal(30L, await TestDatabase.ScalarAsync<long>("select count(*) from public.exec_sql_probe"));
            var text = log.ToString();
            Assert.Contains("n\n1\n2\n", text);
            Assert.Contains("(30 rows)", text);
            Assert.DoesNotContain("\n25\n", text);
            Assert.DoesNotContain("Username", text);
        }
        finally
        {
            await TestDatabase.ScalarAsync<int>("drop table if exists public.exec_sql_probe");
        }
    }

    [Fact]
    public async Task SqlExecutor_Fails_WhenTheConnectionIsUnknown()
    {
        var outcome = await ExecuteSqlAsync("nope", "select 1", new RecordingLog());
        Assert.Equal(TaskOutcomeKind.Failed, outcome.Kind);
        Assert.Equal("no connection named 'nope'", outcome.Error);
    }

    [Fact]
    public async Task SqlExecutor_CancelsTheStatementOnTheServer_WhenCancelled()
    {
        await Admin.PostJsonAsync("connections", new { name = "self", kind = "postgres", connection_string = TestDatabase.ConnectionString }).ExpectAsync(HttpStatusCode.Created);
        const string active = "select count(*) from pg_stat_activity where datname = current_database() and state = 'active' and query like 'select pg_sleep(30)%'";
        using var cancel = new CancellationTokenSource();
        var running = ExecuteSqlAsync("self", "select pg_sleep(30) as slow_probe", new RecordingLog(), cancel.Token);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await TestDatabase.ScalarAsync<long>(active) == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>(active));
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        deadline = DateTime.UtcNow.AddSeconds(3);
        while (await TestDatabase.ScalarAsync<long>(active) > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>(active));
    }
}
