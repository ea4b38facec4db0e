using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>Runs executed by the real worker pool of the real server.</summary>
public sealed class RunExecutionTests(ServerFixture server) : ServerTest(server)
{
    private async Task CreateDagAsync(string json) => await Admin.PostJsonAsync("dags", json).ExpectAsync(HttpStatusCode.Created);

    [Fact]
    public async Task Diamond_RunsInDependencyOrder_AndSucceeds()
    {
        await CreateDagAsync("""{"name":"diamond","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]},{"id":"c","depends_on":["a"]},{"id":"d","depends_on":["b","c"]}]}""");
        var runId = await Operator.TriggerAsync("diamond");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        var t = new[] { "a", "b", "c", "d" }.ToDictionary(id => id, id => RunHelpers.Task(run, id));
        Assert.All(t.Values, task => Assert.Equal("success", task.GetProperty("state").GetString()));
        Assert.True(RunHelpers.Time(t["b"], "started_at") >= RunHelpers.Time(t["a"], "finished_at"));
        Assert.True(RunHelpers.Time(t["c"], "started_at") >= RunHelpers.Time(t["a"], "finished_at"));
        Assert.True(RunHelpers.Time(t["d"], "started_at") >= RunHelpers.Time(t["b"], "finished_at"));
        Assert.True(RunHelpers.Time(t["d"], "started_at") >= RunHelpers.Time(t["c"], "finished_at"));
        var attempt = t["d"].GetProperty("attempts")[0];
        Assert.Equal("success", attempt.GetProperty("state").GetString());
        Assert.False(string.IsNullOrEmpty(attempt.GetProperty("worker_id").GetString()));
    }

    [Fact]
    public async Task FanOutFanIn_RunsEveryBranch()
    {
        var branches = string.Join(",", Enumerable.Range(0, 40).Select(i => $"{{\"id\":\"b{i}\",\"depends_on\":[\"start\"]}}"));
        var all = string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"b{i}\""));
        await CreateDagAsync($$"""{"name":"fan","tasks":[{"id":"start"},{{branches}},{"id":"join","depends_on":[{{all}}]}]}""");
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("fan"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(42, run.GetProperty("tasks").GetArrayLength());
    }

    [Fact]
    public async Task Trigger_MergesConfOverParams_AndRejectsDuplicateLogicalDate()
    {
        await CreateDagAsync("""{"name":"p","params":{"region":"eu","size":1},"tasks":[{"id":"a"}]}""");
        var run = await Operator.PostJsonAsync("dags/p/runs", """{"conf":{"size":5},"logical_date":"2030-05-01T10:00:00+02:00"}""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("2030-05-01T08:00:00Z", run.GetProperty("logical_date").GetString());
        Assert.Equal("eu", run.GetProperty("params").GetProperty("region").GetString());
        Assert.Equal(5, run.GetProperty("params").GetProperty("size").GetInt32());
        Assert.Equal(1, run.GetProperty("dag_version").GetInt32());
        await Operator.PostJsonAsync("dags/p/runs", """{"logical_date":"2030-05-01T08:00:00Z"}""").ExpectProblemAsync(HttpStatusCode.Conflict);
        await Operator.PostJsonAsync("dags/nope/runs", "{}").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Viewer.PostJsonAsync("dags/p/runs", "{}").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Operator.PostJsonAsync("dags/p/runs", """{"conf":[1,2]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Run_PinsVersion_WhenDagChangesAfterwards()
    {
        await CreateDagAsync("""{"name":"v","tasks":[{"id":"a"}]}""");
        var first = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("v"));
        await Admin.PutJsonAsync("dags/v", """{"name":"v","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.OK);
        var second = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("v"));
        Assert.Equal(1, first.GetProperty("dag_version").GetInt32());
        Assert.Equal(1, first.GetProperty("tasks").GetArrayLength());
        Assert.Equal(2, second.GetProperty("dag_version").GetInt32());
        Assert.Equal(2, second.GetProperty("tasks").GetArrayLength());
    }

    [Fact]
    public async Task RunHistory_IsNewestFirst_AndPaged()
    {
        await CreateDagAsync("""{"name":"h","tasks":[{"id":"a"}]}""");
        for (var day = 1; day <= 5; day++)
            await Operator.TriggerAsync("h", $$"""{"logical_date":"2030-01-0{{day}}T00:00:00Z"}""");
        var page1 = await Viewer.GetAsync("dags/h/runs?limit=3").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["2030-01-05T00:00:00Z", "2030-01-04T00:00:00Z", "2030-01-03T00:00:00Z"],
            page1.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("logical_date").GetString()));
        var cursor = page1.GetProperty("next_cursor").GetString();
        var page2 = await Viewer.GetAsync($"dags/h/status?limit=3&cursor={cursor}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, page2.GetProperty("items").GetArrayLength());
        await Viewer.GetAsync("dags/h/runs?state=exploded").ExpectProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task MaxActiveRuns_QueuesFurtherRuns_ThenStartsThem()
    {
        await CreateDagAsync("""{"name":"serial","max_active_runs":1,"tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""");
        var ids = new List<long>();
        for (var i = 0; i < 4; i++)
            ids.Add(await Operator.TriggerAsync("serial", $$"""{"logical_date":"2030-02-0{{i + 1}}T00:00:00Z"}"""));
        var runs = new List<System.Text.Json.JsonElement>();
        foreach (var id in ids)
            runs.Add(await Viewer.WaitForRunAsync(id));
        Assert.All(runs, r => Assert.Equal("success", r.GetProperty("state").GetString()));
        // One at a time: each run started after the previous one finished.
        for (var i = 1; i < runs.Count; i++)
            Assert.True(DateTimeOffset.Parse(runs[i].GetProperty("started_at").GetString()!) >= DateTimeOffset.Parse(runs[i - 1].GetProperty("finished_at").GetString()!),
                $"run {i} started before run {i - 1} finished");
    }

    [Fact]
    public async Task MarkFailed_PropagatesUpstreamFailed_AndRunFails()
    {
        await CreateDagAsync("""{"name":"m","max_active_runs":1,"tasks":[{"id":"a"},{"id":"b","depends_on":["a"]},{"id":"cleanup","depends_on":["b"],"trigger_rule":"all_done"}]}""");
        var runId = await Operator.TriggerAsync("m");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        // Marking a finished task failed re-decides what depends on it.
        await Operator.PostJsonAsync($"runs/{runId}/tasks/a/clear?downstream=true", "{}").ExpectAsync(HttpStatusCode.OK);
        run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(2, RunHelpers.Task(run, "a").GetProperty("attempt").GetInt32());
        Assert.Equal(2, RunHelpers.Task(run, "cleanup").GetProperty("attempt").GetInt32());
        await Viewer.PostJsonAsync($"runs/{runId}/tasks/a/mark", """{"state":"failed"}""").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/a/mark", """{"state":"exploded"}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/zz/mark", """{"state":"failed"}""").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Workers_ListsThisReplica()
    {
        var workers = await Viewer.GetAsync("workers").ExpectAsync(HttpStatusCode.OK);
        var me = workers.EnumerateArray().Single(w => w.GetProperty("alive").GetBoolean());
        Assert.Equal(8, me.GetProperty("slots").GetInt32());
        Assert.Equal(Environment.ProcessId, me.GetProperty("pid").GetInt32());
    }

    [Fact]
    public async Task Logs_Return404_ForUnknownTask()
    {
        await Viewer.GetAsync("runs/999999/tasks/a/logs").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Viewer.GetAsync("runs/999999").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Operator.PostAsync("runs/999999/cancel", null).ExpectProblemAsync(HttpStatusCode.NotFound);
    }
}
