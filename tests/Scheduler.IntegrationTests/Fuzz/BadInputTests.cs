using System.Net;
using System.Text;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Fuzz;

/// <summary>
/// The requests of issue 13 that answered 500, and their neighbours: each is a 4xx problem
/// document naming the field, and nothing reaches the database.
/// </summary>
public sealed class BadInputTests(ServerFixture server) : ServerTest(server)
{
    private const string Dag = """{"name":"bad_input","interval":"PT15M","tasks":[{"id":"a"}]}""";

    [Theory]
    [InlineData("dags?cursor=AA", "cursor")]
    [InlineData("dags?cursor=_w", "cursor")]
    [InlineData("dags?q=%00", "q")]
    [InlineData("dags?tag=%00", "tag")]
    [InlineData("dags?tag=a%00b&q=x", "tag")]
    [InlineData("notifications/deliveries?channel=%00", "channel")]
    [InlineData("notifications/deliveries?dag=%00", "dag")]
    [InlineData("notifications/deliveries?cursor=AA", "cursor")]
    [InlineData("dags/bad_input/runs?cursor=AA", "cursor")]
    [InlineData("dags/bad_input/versions?cursor=MQA", "cursor")]
    [InlineData("dead-letters?cursor=AA", "cursor")]
    [InlineData("api-keys?cursor=LTE", "cursor")]
    [InlineData("monitors?cursor=AA", "cursor")]
    [InlineData("channels?cursor=AA", "cursor")]
    [InlineData("connections?cursor=AA", "cursor")]
    public async Task Query_WithTextPostgresRefuses_Is400NamingTheParameter(string path, string field)
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        var problem = await Admin.GetAsync(path).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors(field));
    }

    /// <summary>A client that accepts only HTML still gets the problem document (it got an empty 400, or a 500 for a 401/403).</summary>
    [Theory]
    [InlineData("text/html")]
    [InlineData("text/plain")]
    public async Task Errors_AreProblemDocuments_WhateverTheClientAccepts(string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "dags?q=%00");
        request.Headers.TryAddWithoutValidation("Accept", accept);
        var problem = await Viewer.SendAsync(request).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("q"));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("trace_id").GetString()));

        // 401 and 403 came from the authentication handler, whose write threw: a 500.
        using var anonymous = Server.NewClient(null);
        using var noKey = new HttpRequestMessage(HttpMethod.Get, "dags");
        noKey.Headers.TryAddWithoutValidation("Accept", accept);
        await anonymous.SendAsync(noKey).ExpectProblemAsync(HttpStatusCode.Unauthorized);
        using var forbidden = new HttpRequestMessage(HttpMethod.Get, "api-keys");
        forbidden.Headers.TryAddWithoutValidation("Accept", accept);
        await Viewer.SendAsync(forbidden).ExpectProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task MonitorPings_WithBadLimitOrCursor_Is400()
    {
        await Admin.PostJsonAsync("monitors", """{"name":"m","interval":"PT1H"}""").ExpectAsync(HttpStatusCode.Created);
        Assert.NotEmpty((await Viewer.GetAsync("monitors/m/pings?limit=-1").ExpectProblemAsync(HttpStatusCode.BadRequest)).Errors("limit"));
        Assert.NotEmpty((await Viewer.GetAsync("monitors/m/pings?cursor=AA").ExpectProblemAsync(HttpStatusCode.BadRequest)).Errors("cursor"));
        await Viewer.GetAsync("monitors/m/pings?limit=5").ExpectAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("dags", """{"name":"d","description":"x\u0000y","tasks":[{"id":"a"}]}""", "description")]
    [InlineData("dags", """{"name":"d","tasks":[{"id":"a","type":"shell","command":"true","env":{"A":"\u0000"}}]}""", "tasks[0].env.A")]
    [InlineData("dags", """{"name":"d","tags":["ok","\ud800"],"tasks":[{"id":"a"}]}""", "tags[1]")]
    [InlineData("dags", """{"name":"d","params":{"\u0000":1},"tasks":[{"id":"a"}]}""", "params")]
    [InlineData("dags/bad_input/runs", """{"conf":{"x":"\u0000"}}""", "conf.x")]
    [InlineData("dags/bad_input/runs", """{"conf":{"list":[1,{"deep":["ok","\udc00x"]}]}}""", "conf.list[1].deep[1]")]
    [InlineData("dags/bad_input/runs", """{"conf":{"\u0000":"x"}}""", "conf")]
    [InlineData("api-keys", """{"name":"a\u0000b","role":"viewer"}""", "name")]
    [InlineData("monitors", """{"name":"m","description":"\u0000","interval":"PT1H"}""", "description")]
    public async Task JsonBody_WithTextPostgresRefuses_Is400NamingTheField(string path, string body, string field)
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        var before = await CountsAsync();
        var problem = await Admin.PostJsonAsync(path, body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("U+0000", Assert.Single(problem.Errors(field)));
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task JsonBody_WithInvalidUtf8Bytes_Is400()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"conf":{"x":"ab"}}""").ToList();
        bytes.InsertRange(14, new byte[] { 0xED, 0xA0, 0x80 }); // an encoded surrogate: not UTF-8
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        using var content = new ByteArrayContent(bytes.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var problem = await Operator.PostAsync("dags/bad_input/runs", content).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("conf.x"));
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from runs.dag_runs"));
    }

    /// <summary>Found by the fuzz test: each answered 500.</summary>
    [Theory]
    [InlineData("dags/bad_input/runs", """{"conf":{"a":1,"a":2}}""", "conf.a")]
    [InlineData("dags/bad_input/runs", """{"conf":{"x":{"y":[{"b":1,"b":2}]}}}""", "conf.x.y[0].b")]
    [InlineData("dags", """{"name":"d","params":{"p":1,"p":2},"tasks":[{"id":"a"}]}""", "params.p")]
    [InlineData("channels", """{"name":"c","type":"webhook","settings":{"url":{"a":1,"a":2},"secret":"0123456789abcdef"}}""", "settings.url.a")]
    [InlineData("dags/validate", """{"name":"d","tasks":[{"id":"a"},{"id":"b","depends_on":[null]}]}""", "tasks[1].depends_on[0]")]
    [InlineData("dags", """{"name":"d","tasks":[{"id":"a","depends_on":["b"]},{"id":"b","depends_on":["a",""]}]}""", "tasks[1].depends_on[1]")]
    public async Task DuplicatePropertiesAndNullItems_Are400(string path, string body, string field)
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        var problem = await Admin.PostJsonAsync(path, body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors(field));
    }

    [Fact]
    public async Task GlobalRules_WithANullRule_Is400()
    {
        var problem = await Admin.PutJsonAsync("notifications/rules", """{"rules":[null]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("rules[0]"));
    }

    /// <summary>JSON names are case-sensitive: a conf may hold "A" and "a" (the web defaults made that a 500).</summary>
    [Fact]
    public async Task Conf_KeepsKeysThatDifferOnlyByCase()
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        var run = await Operator.PostJsonAsync("dags/bad_input/runs", """{"conf":{"A":1,"a":2,"n":{"K":true,"k":false}}}""").ExpectAsync(HttpStatusCode.Created);
        var conf = run.GetProperty("conf");
        Assert.Equal(1, conf.GetProperty("A").GetInt32());
        Assert.Equal(2, conf.GetProperty("a").GetInt32());
        Assert.False(conf.GetProperty("n").GetProperty("k").GetBoolean());
    }

    [Fact]
    public async Task StorableText_StillPasses_AndPlainJsonErrorsAreUnchanged()
    {
        await Admin.PostJsonAsync("dags", """{"name":"d","description":"caf\u00e9 \ud83d\ude00 \u2400","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var dag = await Viewer.GetAsync("dags/d").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("café 😀 ␀", dag.GetProperty("description").GetString());
        var malformed = await Admin.PostJsonAsync("dags", """{"name":"x","description":"\u0000",""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Malformed JSON", malformed.GetProperty("title").GetString());
    }

    [Fact]
    public async Task ConcurrentCreates_OfOneMonitor_AreOneCreatedAndConflicts_OfOnePoolOrChannel_AllSucceed()
    {
        for (var round = 0; round < 3; round++)
        {
            var monitor = $$"""{"name":"race_{{round}}","interval":"PT1H"}""";
            var creates = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Admin.PostJsonAsync("monitors", monitor)));
            Assert.All(creates, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"monitor create: {(int)r.StatusCode}"));
            Assert.Single(creates, r => r.StatusCode == HttpStatusCode.Created);
            Assert.All(creates.Where(r => r.StatusCode == HttpStatusCode.Conflict), r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));

            var pools = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Admin.PutJsonAsync($"pools/race_{round}", $$"""{"slots":{{i + 1}}}""")));
            Assert.All(pools, r => Assert.True(r.StatusCode == HttpStatusCode.OK, $"pool upsert: {(int)r.StatusCode}"));
            var channel = $$$"""{"name":"race_{{{round}}}","type":"webhook","settings":{"url":"http://127.0.0.1:9/hook","secret":"s3cret-s3cret-s3cret"}}""";
            var channels = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Admin.PutJsonAsync($"channels/race_{round}", channel)));
            Assert.All(channels, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"channel upsert: {(int)r.StatusCode}"));
            Assert.Single(channels, r => r.StatusCode == HttpStatusCode.Created);
            foreach (var response in creates.Concat(pools).Concat(channels))
                response.Dispose();
        }
        Assert.Equal(3L, await TestDatabase.ScalarAsync<long>("select count(*) from notifications.monitors where name like 'race%'"));
        Assert.Equal(3L, await TestDatabase.ScalarAsync<long>("select count(*) from runs.pools where name like 'race%'"));
    }

    [Theory]
    [InlineData("""{"name":"edge","interval":"PT15M","tasks":[{"id":"a"}]}""", "9999-12-31T00:00:00Z", 1000)]
    [InlineData("""{"name":"edge","interval":"PT1S","tasks":[{"id":"a"}]}""", "9999-12-31T23:59:59.9999999Z", 10)]
    [InlineData("""{"name":"edge","interval":"P365D","start_date":"9999-06-01T00:00:00Z","tasks":[{"id":"a"}]}""", "0001-01-01T00:00:00Z", 1000)]
    [InlineData("""{"name":"edge","cron":"0 9 * * *","tasks":[{"id":"a"}]}""", "9999-12-31T00:00:00Z", 1000)]
    [InlineData("""{"name":"edge","cron":"* * * * *","timezone":"Pacific/Kiritimati","tasks":[{"id":"a"}]}""", "9999-12-31T23:00:00Z", 1000)]
    [InlineData("""{"name":"edge","cron":"0 0 1 1 *","timezone":"Etc/GMT+12","tasks":[{"id":"a"}]}""", "0001-01-01T00:00:00Z", 1000)]
    [InlineData("""{"name":"edge","interval":"PT1H","tasks":[{"id":"a"}]}""", "0001-01-01T00:00:00Z", 1000)]
    public async Task Schedule_AtTheEdgesOfTime_NeverThrows(string dag, string from, int count)
    {
        await Admin.PostJsonAsync("dags", dag).ExpectAsync(HttpStatusCode.Created);
        var schedule = await Viewer.GetAsync($"dags/edge/schedule?from={Uri.EscapeDataString(from)}&count={count}").ExpectAsync(HttpStatusCode.OK);
        var items = schedule.GetProperty("items").EnumerateArray().Select(i => DateTimeOffset.Parse(i.GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(items.Count <= count);
        Assert.Equal(items.Order(), items);
        Assert.All(items, i => Assert.True(i > DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("count=0")]
    [InlineData("count=-5")]
    [InlineData("count=2147483648")]
    [InlineData("from=10000-01-01T00:00:00Z")]
    [InlineData("from=not-a-date")]
    public async Task Schedule_WithBadCountOrDate_Is400(string query)
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        await Viewer.GetAsync($"dags/bad_input/schedule?{query}").ExpectProblemAsync(HttpStatusCode.BadRequest);
    }

    /// <summary>Linux refuses to start a process with one environment variable over 128 KiB.</summary>
    [Fact]
    public async Task Shell_WithAConfOverTheEnvironmentLimit_ReadsItFromAFile()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"big_conf","tasks":[
              {"id":"file","type":"shell","command":"test -z \"${SCHEDULER_PARAMS+set}\" && wc -c < \"$SCHEDULER_PARAMS_FILE\" && grep -c marker \"$SCHEDULER_PARAMS_FILE\""},
              {"id":"dir","type":"shell","command":"dirname \"$SCHEDULER_PARAMS_FILE\""}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var big = new string('x', 200 * 1024);
        var runId = await Operator.TriggerAsync("big_conf", $$$"""{"conf":{"blob":"{{{big}}}","tag":"marker"}}""");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.True(run.GetProperty("state").GetString() == "success", run.ToString());
        var log = await Viewer.GetStringAsync($"runs/{runId}/tasks/file/logs");
        Assert.Contains((200 * 1024 + """{"blob":"","tag":"marker"}""".Length).ToString(System.Globalization.CultureInfo.InvariantCulture), log);
        var folder = (await Viewer.GetStringAsync($"runs/{runId}/tasks/dir/logs")).Trim();
        Assert.False(Directory.Exists(folder), $"the attempt's folder {folder} is left behind");

        // A small conf is still in the environment too.
        await Admin.PostJsonAsync("dags", """{"name":"small_conf","tasks":[{"id":"t","type":"shell","command":"echo \"$SCHEDULER_PARAMS\"; cat \"$SCHEDULER_PARAMS_FILE\""}]}""").ExpectAsync(HttpStatusCode.Created);
        var small = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("small_conf", """{"conf":{"a":1}}"""));
        Assert.Equal("success", small.GetProperty("state").GetString());
        var smallLog = await Viewer.GetStringAsync($"runs/{small.GetProperty("run_id").GetInt64()}/tasks/t/logs");
        Assert.Equal(2, smallLog.Split("{\"a\":1}").Length - 1);
    }

    /// <summary>Rows in the tables a refused request could have written.</summary>
    private static async Task<string> CountsAsync() =>
        (await TestDatabase.ScalarAsync<string>("""
            select concat_ws(',', (select count(*) from dags.dags), (select count(*) from dags.dag_versions), (select count(*) from runs.dag_runs),
                (select count(*) from access.api_keys), (select count(*) from notifications.monitors))
            """))!;
}
