using System.Net;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Authoring;

/// <summary>Templates rendered per attempt, outputs flowing downstream, params_schema: over HTTP with real shell and http tasks.</summary>
public sealed class TemplatesAndOutputsTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Templates_RenderContextParamsAndUpstreamOutputs_IntoUriHeadersBodyAndCommand()
    {
        using var listener = new RecordingListener { Respond = (_, _) => (200, """{"rows": 7, "name": "ok"}""") };
        await Admin.PostJsonAsync("dags", $$$"""
            {"name":"tpl","timezone":"Europe/Berlin","params":{"region":"eu","files":["a.csv","b.csv"]},"tasks":[
              {"id":"extract","type":"shell","command":"echo '{\"files\": {{ params.files | json }}, \"count\": 2}' > \"$SCHEDULER_OUTPUT\""},
              {"id":"call","type":"http","method":"POST","uri":"{{{listener.Url}}}/load/{{ ds }}/{{ params.region }}?n={{ outputs.extract.count }}",
               "headers":{"X-Run":"{{ run_id }}","X-Task":"{{ dag }}.{{ task }}.{{ attempt }}"},
               "body":{"first":"{{ outputs.extract.files[0] }}","next_day":"{{ ds | add_days: 1 }}"},"depends_on":["extract"]},
              {"id":"report","type":"shell","command":"echo rows={{ outputs.call.body.rows }} status={{ outputs.call.status }} at={{ logical_date }}","depends_on":["call"]}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("tpl", """{"logical_date":"2026-06-30T23:30:00Z","conf":{"region":"us"}}""");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());

        var request = Assert.Single(listener.Requests);
        // 23:30Z on June 30th is already July 1st in Berlin: ds is the DAG's zone's date.
        Assert.Equal("/load/2026-07-01/us", request.Path);
        Assert.Equal(runId.ToString(), request.Headers["X-Run"]);
        Assert.Equal("tpl.call.1", request.Headers["X-Task"]);
        Assert.Equal("""{"first":"a.csv","next_day":"2026-07-02"}""", request.Body);

        var extract = await Viewer.GetAsync($"runs/{runId}/tasks/extract/output").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, extract.GetProperty("count").GetInt32());
        Assert.Equal(["a.csv", "b.csv"], extract.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToArray());
        var call = await Viewer.GetAsync($"runs/{runId}/tasks/call/output").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(200, call.GetProperty("status").GetInt32());
        Assert.Equal(7, call.GetProperty("body").GetProperty("rows").GetInt32());
        var log = await (await Viewer.GetAsync($"runs/{runId}/tasks/report/logs")).Content.ReadAsStringAsync();
        Assert.Contains("rows=7 status=200 at=2026-06-30T23:30:00Z", log);
        await Viewer.GetAsync($"runs/{runId}/tasks/report/output").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RunPage_ShowsTheTasksOutput()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"tpl-page","tasks":[{"id":"t","type":"shell","command":"echo '{\"rows\": 12}' > \"$SCHEDULER_OUTPUT\""}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("tpl-page");
        Assert.Equal("success", (await Viewer.WaitForRunAsync(runId)).GetProperty("state").GetString());
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var html = await session.GetHtmlAsync($"/admin/runs/{runId}?task=t");
        Assert.Contains("data-testid=\"output\"", html);
        Assert.Contains("&quot;rows&quot;: 12", html);
    }

    [Fact]
    public async Task UndefinedVariable_FailsTheAttempt_WithTheNameInItsLog()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"tpl-undefined","params":{"limit":3},"tasks":[{"id":"t","type":"shell","command":"echo {{ params.limt }}"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("tpl-undefined");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("failed", RunHelpers.State(run, "t"));
        var log = await (await Viewer.GetAsync($"runs/{runId}/tasks/t/logs")).Content.ReadAsStringAsync();
        Assert.Contains("template 'command'", log);
        Assert.Contains("'params.limt' is not defined", log);
    }

    [Fact]
    public async Task BrokenTemplate_IsA400_KeyedByFieldPath()
    {
        var problem = await Admin.PostJsonAsync("dags", """
            {"name":"tpl-broken","tasks":[
              {"id":"a","type":"shell","command":"echo ok"},
              {"id":"b","type":"shell","command":"echo {{ ds ","env":{"DAY":"{% if %}"}},
              {"id":"c","type":"http","uri":"http://127.0.0.1:1/x","headers":{"X-Day":"{{ ds | }}"}}
            ]}
            """).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("tasks[1].command"));
        Assert.NotEmpty(problem.Errors("tasks[1].env.DAY"));
        Assert.NotEmpty(problem.Errors("tasks[2].headers.X-Day"));
    }

    [Fact]
    public async Task ShellOutput_ThatIsNotJsonOrOverTheCap_FailsTheAttempt_WithTheReason()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"tpl-bad-output","tasks":[
              {"id":"text","type":"shell","command":"echo not json > \"$SCHEDULER_OUTPUT\""},
              {"id":"huge","type":"shell","command":"head -c 1100000 /dev/zero | tr '\\0' 'a' | sed 's/^/\"/; s/$/\"/' > \"$SCHEDULER_OUTPUT\""}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("tpl-bad-output"));
        var text = RunHelpers.Task(run, "text").GetProperty("attempts")[0];
        Assert.Equal("failed", RunHelpers.State(run, "text"));
        Assert.Contains("$SCHEDULER_OUTPUT is not JSON", text.GetProperty("error").GetString());
        Assert.Equal("failed", RunHelpers.State(run, "huge"));
        Assert.Contains("capped at 1 MiB", RunHelpers.Task(run, "huge").GetProperty("attempts")[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task ParamsSchema_RefusesATriggerWhoseMergedParamsFailIt_KeyedByPath()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"tpl-schema","params":{"limit":5},
             "params_schema":{"type":"object","required":["region"],"properties":{
               "region":{"type":"string","enum":["eu","us"]},"limit":{"type":"integer","maximum":10}}},
             "tasks":[{"id":"t","type":"shell","command":"echo {{ params.region }}"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var missing = await Operator.PostJsonAsync("dags/tpl-schema/runs", "{}").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(missing.Errors("conf"));
        var wrong = await Operator.PostJsonAsync("dags/tpl-schema/runs", """{"conf":{"region":"mars","limit":11}}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(wrong.Errors("conf.region"));
        Assert.NotEmpty(wrong.Errors("conf.limit"));
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("tpl-schema", """{"conf":{"region":"eu"}}"""));
        Assert.Equal("success", run.GetProperty("state").GetString());

        var invalid = await Admin.PostJsonAsync("dags", """
            {"name":"tpl-schema-bad","params_schema":{"type":"no-such-type"},"tasks":[{"id":"t"}]}
            """).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(invalid.Errors("params_schema"));
    }
}
