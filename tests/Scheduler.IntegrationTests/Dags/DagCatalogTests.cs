using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Dags;

public sealed class DagCatalogTests(ServerFixture server) : ServerTest(server)
{
    /// <summary>The seed sample from docs/api.md, verbatim.</summary>
    public const string Seed = """
        {
          "name": "daily_report",
          "cron": "0 9 * * *",
          "tasks": [
            {"id": "fetch_data", "type": "http", "uri": "http://127.0.0.1:9/data"},
            {"id": "transform", "depends_on": ["fetch_data"]},
            {"id": "send_report", "depends_on": ["transform"]}
          ]
        }
        """;

    private static string Dag(string name, string extra = "", string tasks = """[{"id":"a"}]""") =>
        $$"""{"name":"{{name}}",{{extra}}"tasks":{{tasks}}}""";

    [Fact]
    public async Task Post_StoresSeedSampleVerbatim_AndGetReturnsIt()
    {
        using var post = await Admin.PostJsonAsync("dags", Seed);
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.Equal("/api/v1/dags/daily_report", post.Headers.Location?.OriginalString);

        var dag = await Viewer.GetAsync("dags/daily_report").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("daily_report", dag.GetProperty("name").GetString());
        Assert.Equal(1, dag.GetProperty("version").GetInt32());
        Assert.False(dag.GetProperty("paused").GetBoolean());
        Assert.Equal("0 9 * * *", dag.GetProperty("cron").GetString());
        Assert.Equal("UTC", dag.GetProperty("timezone").GetString());
        Assert.Equal(JsonValueKind.Null, dag.GetProperty("last_run_state").ValueKind);
        // The definition round-trips: same content as sent, whatever the key order.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Seed), JsonNode.Parse(dag.GetProperty("definition").GetRawText())),
            dag.GetProperty("definition").GetRawText());
        var next = dag.GetProperty("next_run_at").GetString()!;
        Assert.EndsWith("T09:00:00Z", next);
        Assert.True(DateTimeOffset.Parse(next) > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Post_Returns409_WhenNameExists()
    {
        await Admin.PostJsonAsync("dags", Seed).ExpectAsync(HttpStatusCode.Created);
        var problem = await Admin.PostJsonAsync("dags", Seed).ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("daily_report", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Put_CreatesThenVersionsOnlyRealChanges()
    {
        await Admin.PutJsonAsync("dags/etl", Dag("etl")).ExpectAsync(HttpStatusCode.Created);
        // Same content, different key order and spacing: no new version.
        var same = await Admin.PutJsonAsync("dags/etl", """{ "tasks": [ {"id":"a"} ],   "name": "etl" }""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, same.GetProperty("version").GetInt32());
        var changed = await Admin.PutJsonAsync("dags/etl", Dag("etl", "\"description\":\"nightly\",")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, changed.GetProperty("version").GetInt32());
        Assert.Equal("nightly", changed.GetProperty("description").GetString());

        var versions = await Viewer.GetAsync("dags/etl/versions").ExpectAsync(HttpStatusCode.OK);
        var items = versions.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([2, 1], items.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal("bootstrap-admin", items[0].GetProperty("created_by").GetString());
        Assert.NotEqual(items[0].GetProperty("hash").GetString(), items[1].GetProperty("hash").GetString());

        var v1 = await Viewer.GetAsync("dags/etl/versions/1").ExpectAsync(HttpStatusCode.OK);
        Assert.False(v1.GetProperty("definition").TryGetProperty("description", out _));
        await Viewer.GetAsync("dags/etl/versions/9").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Put_Rejects_WhenBodyNameDiffersFromUrl()
    {
        var problem = await Admin.PutJsonAsync("dags/one", Dag("two")).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("differs", problem.Errors("name")[0]);
    }

    [Fact]
    public async Task Put_TakesNameFromUrl_WhenBodyHasNone()
    {
        var dag = await Admin.PutJsonAsync("dags/from_url", """{"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("from_url", dag.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Put_ConcurrentDeploys_GiveDistinctVersions()
    {
        await Admin.PutJsonAsync("dags/race", Dag("race")).ExpectAsync(HttpStatusCode.Created);
        var deploys = Enumerable.Range(0, 8).Select(i => Admin.PutJsonAsync("dags/race", Dag("race", $"\"description\":\"d{i}\",")));
        foreach (var response in await Task.WhenAll(deploys))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var versions = await Viewer.GetAsync("dags/race/versions").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(Enumerable.Range(1, 9).Reverse(), versions.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
    }

    [Fact]
    public async Task List_FiltersAndPagesWithCursor()
    {
        for (var i = 0; i < 7; i++)
            await Admin.PostJsonAsync("dags", Dag($"job_{i:D2}", i % 2 == 0 ? "\"tags\":[\"even\"]," : "\"paused\":true,")).ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", Dag("other")).ExpectAsync(HttpStatusCode.Created);

        var names = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Viewer.GetAsync($"dags?limit=3{(cursor is null ? "" : "&cursor=" + cursor)}").ExpectAsync(HttpStatusCode.OK);
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("name").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        } while (cursor is not null);
        Assert.Equal(3, pages);
        Assert.Equal(["job_00", "job_01", "job_02", "job_03", "job_04", "job_05", "job_06", "other"], names);

        async Task<string[]> Names(string query) =>
            (await Viewer.GetAsync("dags?" + query).ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(d => d.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["job_00", "job_02", "job_04", "job_06"], await Names("tag=even"));
        Assert.Equal(["job_01", "job_03", "job_05"], await Names("paused=true"));
        Assert.Equal(["other"], await Names("q=THE"));
        Assert.Empty(await Names("q=%25"));
        Assert.Equal(["job_03"], await Names("q=b_03"));
    }

    [Fact]
    public async Task List_Rejects_BadPagingParameters()
    {
        Assert.Contains("limit", (await Viewer.GetAsync("dags?limit=501").ExpectProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetRawText());
        Assert.Contains("limit", (await Viewer.GetAsync("dags?limit=abc").ExpectProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetRawText());
        await Viewer.GetAsync("dags?cursor=***").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Viewer.GetAsync("dags?paused=maybe").ExpectProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Delete_RemovesDagAndVersions()
    {
        await Admin.PostJsonAsync("dags", Seed).ExpectAsync(HttpStatusCode.Created);
        await Admin.DeleteAsync("dags/daily_report").ExpectAsync(HttpStatusCode.NoContent);
        await Viewer.GetAsync("dags/daily_report").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("dags/daily_report").ExpectProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from dags.dag_versions"));
    }

    [Fact]
    public async Task PauseAndUnpause_ToggleStateAndKeepSchedule()
    {
        await Admin.PostJsonAsync("dags", Seed).ExpectAsync(HttpStatusCode.Created);
        var paused = await Operator.PostAsync("dags/daily_report/pause", null).ExpectAsync(HttpStatusCode.OK);
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.True(await TestDatabase.ScalarAsync<bool>("select paused from dags.dags where name = 'daily_report'"));
        var unpaused = await Operator.PostAsync("dags/daily_report/unpause", null).ExpectAsync(HttpStatusCode.OK);
        Assert.False(unpaused.GetProperty("paused").GetBoolean());
        Assert.EndsWith("T09:00:00Z", unpaused.GetProperty("next_run_at").GetString());
        await Operator.PostAsync("dags/missing/pause", null).ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PausedOnCreation_IsStateNotDefinition()
    {
        await Admin.PostJsonAsync("dags", Dag("p", "\"paused\":true,")).ExpectAsync(HttpStatusCode.Created);
        var dag = await Viewer.GetAsync("dags/p").ExpectAsync(HttpStatusCode.OK);
        Assert.True(dag.GetProperty("paused").GetBoolean());
        // Re-deploying with paused:false does not unpause what an operator paused.
        var redeployed = await Admin.PutJsonAsync("dags/p", Dag("p", "\"paused\":false,")).ExpectAsync(HttpStatusCode.OK);
        Assert.True(redeployed.GetProperty("paused").GetBoolean());
        Assert.Equal(1, redeployed.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Schedule_ReturnsExactInstantsInZone_AcrossDst()
    {
        await Admin.PostJsonAsync("dags", Dag("ny", "\"cron\":\"30 2 * * *\",\"timezone\":\"America/New_York\",")).ExpectAsync(HttpStatusCode.Created);
        var schedule = await Viewer.GetAsync("dags/ny/schedule?count=3&from=2027-03-13T00:00:00Z").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(
            ["2027-03-13T07:30:00Z", "2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"],
            schedule.GetProperty("items").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal("America/New_York", schedule.GetProperty("timezone").GetString());
        await Viewer.GetAsync("dags/ny/schedule?count=0").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Viewer.GetAsync("dags/ny/schedule?from=yesterday").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Viewer.GetAsync("dags/none/schedule").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Schedule_HonoursIntervalAndWindow()
    {
        await Admin.PostJsonAsync("dags", Dag("every15", "\"interval\":\"PT15M\",\"start_date\":\"2030-01-01T00:05:00Z\",\"end_date\":\"2030-01-01T00:40:00Z\",")).ExpectAsync(HttpStatusCode.Created);
        var schedule = await Viewer.GetAsync("dags/every15/schedule?count=5").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["2030-01-01T00:05:00Z", "2030-01-01T00:20:00Z", "2030-01-01T00:35:00Z"],
            schedule.GetProperty("items").EnumerateArray().Select(i => i.GetString()));
        var dag = await Viewer.GetAsync("dags/every15").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("2030-01-01T00:05:00Z", dag.GetProperty("next_run_at").GetString());
        Assert.Equal("PT15M", dag.GetProperty("interval").GetString());
    }

    [Fact]
    public async Task Unscheduled_HasNoNextRun()
    {
        var dag = await Admin.PostJsonAsync("dags", Dag("manual")).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, dag.GetProperty("next_run_at").ValueKind);
        var schedule = await Viewer.GetAsync("dags/manual/schedule").ExpectAsync(HttpStatusCode.OK);
        Assert.Empty(schedule.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Validate_ChecksWithoutStoring()
    {
        var result = await Viewer.PostJsonAsync("dags/validate", Seed).ExpectAsync(HttpStatusCode.OK);
        Assert.True(result.GetProperty("valid").GetBoolean());
        Assert.Equal(3, result.GetProperty("task_count").GetInt32());
        await Viewer.PostJsonAsync("dags/validate", Dag("x", tasks: "[]")).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from dags.dags"));
    }

    [Fact]
    public async Task Post_AcceptsLargestAllowedDag()
    {
        var tasks = string.Join(",", Enumerable.Range(0, 10_000).Select(i => i == 0 ? "{\"id\":\"t0\"}" : $"{{\"id\":\"t{i}\",\"depends_on\":[\"t{i - 1}\"]}}"));
        var dag = await Admin.PostJsonAsync("dags", Dag("big", tasks: $"[{tasks}]")).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(1, dag.GetProperty("version").GetInt32());
        var listed = await Viewer.GetAsync("dags?q=big").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(10_000, listed.GetProperty("items")[0].GetProperty("task_count").GetInt32());
    }
}
