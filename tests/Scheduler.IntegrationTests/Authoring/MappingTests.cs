using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Authoring;

/// <summary>Dynamic task mapping over HTTP with real shell tasks (docs/authoring.md "Mapping").</summary>
public sealed class MappingTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task MapOverAnUpstreamOutput_RunsOneInstancePerItem_AndDownstreamSeesTheirOutputsInOrder()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"map-output","tasks":[
              {"id":"list","type":"shell","command":"echo '{\"files\": [\"a.csv\", \"b.csv\", \"c.csv\"]}' > \"$SCHEDULER_OUTPUT\""},
              {"id":"transform","type":"shell","depends_on":["list"],"map_over":"{{ outputs.list.files | json }}",
               "command":"echo handling {{ item }}; echo '{\"file\": \"{{ item }}\", \"index\": {{ map_index }}}' > \"$SCHEDULER_OUTPUT\""},
              {"id":"collect","type":"shell","depends_on":["transform"],"command":"echo 'got {{ outputs.transform | json }}'"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("map-output");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal("success", RunHelpers.State(run, "transform"));
        var mapped = RunHelpers.Task(run, "transform").GetProperty("mapped");
        Assert.Equal(3, mapped.GetProperty("count").GetInt32());
        Assert.Equal(3, mapped.GetProperty("states").GetProperty("success").GetInt32());
        var instances = RunHelpers.Instances(run, "transform");
        Assert.Equal([0, 1, 2], instances.Select(i => i.GetProperty("map_index").GetInt32()));
        Assert.All(instances, i => Assert.Equal("success", i.GetProperty("state").GetString()));

        var output = await Viewer.GetAsync($"runs/{runId}/tasks/transform/output").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["a.csv", "b.csv", "c.csv"], output.EnumerateArray().Select(o => o.GetProperty("file").GetString()));
        var second = await Viewer.GetAsync($"runs/{runId}/tasks/transform/output?map_index=1").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, second.GetProperty("index").GetInt32());
        Assert.Contains("handling c.csv", await (await Viewer.GetAsync($"runs/{runId}/tasks/transform/logs?map_index=2")).Content.ReadAsStringAsync());
        Assert.Contains("rendered 3 item(s)", await (await Viewer.GetAsync($"runs/{runId}/tasks/transform/logs")).Content.ReadAsStringAsync());
        var collected = await (await Viewer.GetAsync($"runs/{runId}/tasks/collect/logs")).Content.ReadAsStringAsync();
        Assert.Contains("got [{\"file\":\"a.csv\",\"index\":0},{\"file\":\"b.csv\",\"index\":1},{\"file\":\"c.csv\",\"index\":2}]", collected);
        await Viewer.GetAsync($"runs/{runId}/tasks/transform/logs?map_index=7").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task MapOverParams_TheTriggersConfDecidesTheInstances()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"map-params","params":{"regions":["eu","us"]},"tasks":[
              {"id":"report","type":"shell","map_over":"{{ params.regions | json }}","command":"echo region={{ item }}"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("map-params"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(2, RunHelpers.Instances(run, "report").Count);

        var runId = await Operator.TriggerAsync("map-params", """{"conf":{"regions":["eu","us","apac"]}}""");
        run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal(3, RunHelpers.Instances(run, "report").Count);
        Assert.Contains("region=apac", await (await Viewer.GetAsync($"runs/{runId}/tasks/report/logs?map_index=2")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnEmptyArray_SkipsTheMappedTask_AndTriggerRulesCarryTheSkipOn()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"map-empty","params":{"regions":[]},"tasks":[
              {"id":"report","type":"shell","map_over":"{{ params.regions | json }}","command":"echo {{ item }}"},
              {"id":"after","depends_on":["report"]},
              {"id":"anyway","depends_on":["report"],"trigger_rule":"none_failed"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("map-empty"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal("skipped", RunHelpers.State(run, "report"));
        Assert.Empty(RunHelpers.Instances(run, "report"));
        Assert.Equal("skipped", RunHelpers.State(run, "after"));
        Assert.Equal("success", RunHelpers.State(run, "anyway"));
    }

    [Fact]
    public async Task OneInstanceFailing_FailsItsTaskByTriggerRules_AndClearingItAloneRerunsOnlyIt()
    {
        var folder = Directory.CreateTempSubdirectory("map-clear-").FullName;
        await Admin.PostJsonAsync("dags", $$$"""
            {"name":"map-clear","params":{"items":["x","bad","z"]},"tasks":[
              {"id":"work","type":"shell","map_over":"{{ params.items | json }}",
               "command":"if [ '{{ item }}' = bad ] && [ ! -f {{{folder}}}/fixed ]; then echo broken; exit 3; fi; echo ok {{ item }}"},
              {"id":"load","depends_on":["work"]},
              {"id":"alert","type":"shell","depends_on":["work"],"trigger_rule":"one_failed","command":"echo alert"},
              {"id":"cleanup","depends_on":["work"],"trigger_rule":"all_done"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("map-clear");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal("failed", RunHelpers.State(run, "work"));
        Assert.Equal(["success", "failed", "success"], RunHelpers.Instances(run, "work").Select(i => i.GetProperty("state").GetString()));
        Assert.Equal("upstream_failed", RunHelpers.State(run, "load"));
        Assert.Equal("success", RunHelpers.State(run, "alert"));
        Assert.Equal("success", RunHelpers.State(run, "cleanup"));

        await File.WriteAllTextAsync(Path.Combine(folder, "fixed"), "");
        await Operator.PostJsonAsync($"runs/{runId}/tasks/work/clear?map_index=-1", "{}").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/work/clear?map_index=9", "{}").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/work/clear?map_index=1&downstream=true", "{}").ExpectAsync(HttpStatusCode.OK);
        run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        var instances = RunHelpers.Instances(run, "work");
        Assert.All(instances, i => Assert.Equal("success", i.GetProperty("state").GetString()));
        // Only the cleared instance ran again.
        Assert.Equal([1, 2, 1], instances.Select(i => i.GetProperty("attempts").GetArrayLength()));
        Assert.Equal("success", RunHelpers.State(run, "work"));
        Assert.Equal("success", RunHelpers.State(run, "load"));
        Assert.Equal("skipped", RunHelpers.State(run, "alert"));

        // Marking one instance failed fails the task again; its downstream follows.
        await Operator.PostJsonAsync($"runs/{runId}/tasks/work/mark", """{"state":"failed","map_index":2}""").ExpectAsync(HttpStatusCode.OK);
        run = await Viewer.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("failed", RunHelpers.State(run, "work"));
        Assert.Equal("failed", RunHelpers.Instances(run, "work")[2].GetProperty("state").GetString());
        var audit = await Admin.GetAsync("audit?action=task.clear").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("details").TryGetProperty("map_index", out var i) && i.GetInt32() == 1);

        // Cleared whole, the task drops its instances and expands afresh: each runs once more.
        await Operator.PostJsonAsync($"runs/{runId}/tasks/work/clear?downstream=true", "{}").ExpectAsync(HttpStatusCode.OK);
        run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal([1, 1, 1], RunHelpers.Instances(run, "work").Select(i => i.GetProperty("attempts").GetArrayLength()));
        Assert.Equal("success", RunHelpers.State(run, "load"));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task EachInstance_RetriesAlone()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"map-retry","params":{"items":["a","b","c"]},"tasks":[
              {"id":"flaky","type":"shell","map_over":"{{ params.items | json }}","retries":1,"retry_delay":0,
               "command":"if [ '{{ item }}' = b ]; then test $SCHEDULER_ATTEMPT -ge 2; fi"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("map-retry"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal([1, 2, 1], RunHelpers.Instances(run, "flaky").Select(i => i.GetProperty("attempts").GetArrayLength()));
    }

    [Fact]
    public async Task MoreItemsThanMaxMapLength_FailsTheTaskSayingSo()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"map-long","max_map_length":5,"params":{"items":[1,2,3]},"tasks":[
              {"id":"capped","type":"shell","map_over":"{{ params.items | json }}","max_map_length":2,"command":"echo {{ item }}"},
              {"id":"scalar","type":"shell","map_over":"{{ params.items[0] }}","command":"echo {{ item }}"},
              {"id":"after","depends_on":["capped"]}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("map-long"));
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal("failed", RunHelpers.State(run, "capped"));
        Assert.Empty(RunHelpers.Instances(run, "capped"));
        Assert.Contains("3 items, more than max_map_length (2)", Error(run, "capped"));
        Assert.Equal("upstream_failed", RunHelpers.State(run, "after"));
        Assert.Equal("failed", RunHelpers.State(run, "scalar"));
        Assert.Contains("must render to a JSON array; it rendered a number", Error(run, "scalar"));
    }

    [Fact]
    public async Task MappingFields_AreValidated_KeyedByPath()
    {
        var problem = await Admin.PostJsonAsync("dags", """
            {"name":"map-bad","max_map_length":0,"tasks":[
              {"id":"a","type":"shell","map_over":"{{ params.items | json","command":"echo"},
              {"id":"b","type":"shell","max_map_length":3,"command":"echo"},
              {"id":"c","type":"shell","map_over":"{{ params.x | json }}","branch":true,"command":"echo","max_map_length":1000000},
              {"id":"d","depends_on":["c"]}
            ]}
            """).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("tasks[0].map_over"));
        Assert.NotEmpty(problem.Errors("tasks[1].max_map_length"));
        Assert.NotEmpty(problem.Errors("tasks[2].branch"));
        Assert.NotEmpty(problem.Errors("tasks[2].max_map_length"));
        Assert.NotEmpty(problem.Errors("max_map_length"));
    }

    private static string Error(JsonElement run, string taskId) =>
        RunHelpers.Task(run, taskId).GetProperty("attempts").EnumerateArray().Last().GetProperty("error").GetString() ?? "";
}
