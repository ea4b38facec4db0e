using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Dags;

/// <summary>Every kind of bad definition is a 400 problem naming the field, never a 500.</summary>
public sealed class DagValidationTests(ServerFixture server) : ServerTest(server)
{
    public static TheoryData<string, string, string, string> Invalid => new()
    {
        { "duplicate task id", """{"name":"d","tasks":[{"id":"a"},{"id":"a"}]}""", "tasks[1].id", "duplicate task id 'a'" },
        { "unknown dependency", """{"name":"d","tasks":[{"id":"a"},{"id":"b","depends_on":["a","zz"]}]}""", "tasks[1].depends_on[1]", "unknown dependency 'zz'" },
        { "self dependency", """{"name":"d","tasks":[{"id":"a","depends_on":["a"]}]}""", "tasks[0].depends_on[0]", "depends on itself" },
        { "cycle", """{"name":"d","tasks":[{"id":"a","depends_on":["c"]},{"id":"b","depends_on":["a"]},{"id":"c","depends_on":["b"]},{"id":"x"}]}""", "tasks[0].depends_on", "a -> b -> c -> a" },
        { "invalid cron", """{"name":"d","cron":"61 * * * *","tasks":[{"id":"a"}]}""", "cron", "invalid cron expression" },
        { "cron field count", """{"name":"d","cron":"* * *","tasks":[{"id":"a"}]}""", "cron", "invalid cron expression" },
        { "invalid time zone", """{"name":"d","cron":"0 9 * * *","timezone":"Mars/Olympus","tasks":[{"id":"a"}]}""", "timezone", "not an IANA time zone" },
        { "cron and interval", """{"name":"d","cron":"0 9 * * *","interval":"PT5M","tasks":[{"id":"a"}]}""", "interval", "not both" },
        { "interval too short", """{"name":"d","interval":0.5,"tasks":[{"id":"a"}]}""", "interval", "between 1 second" },
        { "unknown task type", """{"name":"d","tasks":[{"id":"a","type":"kafka"}]}""", "tasks[0].type", "unknown task type 'kafka'" },
        { "shell without command", """{"name":"d","tasks":[{"id":"a","type":"shell"}]}""", "tasks[0].command", "needs 'command'" },
        { "http without uri", """{"name":"d","tasks":[{"id":"a","type":"http"}]}""", "tasks[0].uri", "needs 'uri'" },
        { "http relative uri", """{"name":"d","tasks":[{"id":"a","type":"http","uri":"/x"}]}""", "tasks[0].uri", "not an absolute http(s) URI" },
        { "sql without connection", """{"name":"d","tasks":[{"id":"a","type":"sql","statement":"select 1"}]}""", "tasks[0].connection", "needs 'connection'" },
        { "sql without statement", """{"name":"d","tasks":[{"id":"a","type":"sql","connection":"warehouse"}]}""", "tasks[0].statement", "needs 'statement'" },
        { "field of another type", """{"name":"d","tasks":[{"id":"a","type":"http","uri":"http://127.0.0.1:1/","command":"ls"}]}""", "tasks[0].command", "is a shell field" },
        { "name pattern", """{"name":"has space","tasks":[{"id":"a"}]}""", "name", "must match" },
        { "missing name", """{"tasks":[{"id":"a"}]}""", "name", "must not be empty" },
        { "task id pattern", """{"name":"d","tasks":[{"id":"a/b"}]}""", "tasks[0].id", "must match" },
        { "no tasks", """{"name":"d","tasks":[]}""", "tasks", "at least one task" },
        { "missing tasks", """{"name":"d"}""", "tasks", "at least one task" },
        { "unknown field", """{"name":"d","schedule":"@daily","tasks":[{"id":"a"}]}""", "schedule", "unknown field" },
        { "unknown task field", """{"name":"d","tasks":[{"id":"a","depend_on":["b"]}]}""", "tasks[0].depend_on", "unknown field" },
        { "unknown trigger rule", """{"name":"d","tasks":[{"id":"a","trigger_rule":"most_success"}]}""", "tasks[0].trigger_rule", "unknown trigger rule" },
        { "negative retries", """{"name":"d","tasks":[{"id":"a","retries":-1}]}""", "tasks[0].retries", "between 0 and 100" },
        { "wrong type", """{"name":"d","tasks":[{"id":"a","retries":"three"}]}""", "tasks[0].retries", "expected an integer" },
        { "number out of range", """{"name":"d","tasks":[{"id":"a","priority":99999999999999}]}""", "tasks[0].priority", "expected an integer" },
        { "bad duration", """{"name":"d","tasks":[{"id":"a","timeout":"30 seconds"}]}""", "tasks[0].timeout", "duration" },
        { "bad backoff", """{"name":"d","defaults":{"retry_backoff":"linear"},"tasks":[{"id":"a"}]}""", "defaults.retry_backoff", "'exponential' or 'fixed'" },
        { "bad notification event", """{"name":"d","notifications":[{"on":["explode"],"channel":"ops"}],"tasks":[{"id":"a"}]}""", "notifications[0].on[0]", "'on' values" },
        { "end before start", """{"name":"d","interval":60,"start_date":"2030-01-02T00:00:00Z","end_date":"2030-01-01T00:00:00Z","tasks":[{"id":"a"}]}""", "end_date", "after 'start_date'" },
        { "bad instant", """{"name":"d","start_date":"tomorrow","tasks":[{"id":"a"}]}""", "start_date", "ISO-8601" },
        { "duplicate property", """{"name":"d","name":"e","tasks":[{"id":"a"}]}""", "name", "duplicate" },
        { "bad env name", """{"name":"d","tasks":[{"id":"a","type":"shell","command":"env","env":{"1X":"y"}}]}""", "tasks[0].env[0]", "not a valid environment variable name" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Post_Returns400NamingTheField(string @case, string body, string key, string message)
    {
        var problem = await Admin.PostJsonAsync("dags", body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.Errors(key).Any(m => m.Contains(message, StringComparison.Ordinal)),
            $"{@case}: no '{message}' under '{key}' in {problem.GetProperty("errors")}");
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from dags.dags"));
    }

    [Fact]
    public async Task Post_ReportsEveryErrorAtOnce()
    {
        var problem = await Admin.PostJsonAsync("dags", """{"name":"bad name","cron":"x","tasks":[{"id":"a","type":"shell"},{"id":"a"}]}""")
            .ExpectProblemAsync(HttpStatusCode.BadRequest);
        foreach (var key in new[] { "name", "cron", "tasks[0].command", "tasks[1].id" })
            Assert.NotEmpty(problem.Errors(key));
    }

    [Theory]
    [InlineData("{\"name\":\"d\",\"tasks\":[{\"id\":")]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("\"a string\"")]
    public async Task Post_Returns400_ForMalformedJson(string body)
    {
        var problem = await Admin.PostJsonAsync("dags", body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Malformed JSON", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Post_Returns400_ForEmptyBody()
    {
        var problem = await Admin.PostJsonAsync("dags", "").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("body", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Post_Returns415_ForNonJsonContentType()
    {
        await Admin.PostAsync("dags", new StringContent("name=x")).ExpectProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Post_Returns413_ForHugeBody()
    {
        // Raw HTTP: the server answers 413 as soon as it sees the declared length, and a
        // client still uploading 17 MiB would see the connection close instead of the answer.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Server.BaseAddress.Host, Server.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"POST /api/v1/dags HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {ServerFixture.BootstrapKey}\r\nContent-Type: application/json\r\nContent-Length: {17 * 1024 * 1024}\r\n\r\n{{\"name\":";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream);
        var statusLine = await reader.ReadLineAsync();
        Assert.StartsWith("HTTP/1.1 413", statusLine);
        var response = await reader.ReadToEndAsync();
        Assert.Contains("application/problem+json", response);
        Assert.Contains("\"status\":413", response);
    }

    [Fact]
    public async Task Post_Rejects_MoreThan10000Tasks()
    {
        var tasks = string.Join(",", Enumerable.Range(0, 10_001).Select(i => $"{{\"id\":\"t{i}\"}}"));
        var problem = await Admin.PostJsonAsync("dags", $"{{\"name\":\"d\",\"tasks\":[{tasks}]}}").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("at most 10000 tasks", problem.Errors("tasks")[0]);
    }

    [Fact]
    public async Task Post_Rejects_TooManyDependenciesOnOneTask()
    {
        var tasks = Enumerable.Range(0, 1_001).Select(i => $"{{\"id\":\"t{i}\"}}").ToList();
        tasks.Add($"{{\"id\":\"sink\",\"depends_on\":[{string.Join(",", Enumerable.Range(0, 1_001).Select(i => $"\"t{i}\""))}]}}");
        var problem = await Admin.PostJsonAsync("dags", $"{{\"name\":\"d\",\"tasks\":[{string.Join(",", tasks)}]}}").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("at most 1000 dependencies", problem.Errors("tasks[1001].depends_on")[0]);
    }

    [Fact]
    public async Task Put_ValidatesLikePost()
    {
        var problem = await Admin.PutJsonAsync("dags/d", """{"name":"d","tasks":[{"id":"a","depends_on":["a"]}]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("tasks[0].depends_on[0]"));
    }
}
