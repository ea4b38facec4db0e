using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Authoring;

/// <summary>branch: true over HTTP: the output's follow list picks the way; the rest is skipped with trigger-rule propagation.</summary>
public sealed class BranchingTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Branch_SkipsTheTasksItDoesNotFollow_AndSkipsPropagateByTriggerRules()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"branchy","params":{"rows":0},"tasks":[
              {"id":"decide","type":"shell","branch":true,
               "command":"{% if params.rows > 0 %}echo '{\"follow\": [\"load\"]}'{% else %}echo '{\"follow\": [\"empty\"]}'{% endif %} > \"$SCHEDULER_OUTPUT\""},
              {"id":"load","type":"shell","command":"echo load","depends_on":["decide"]},
              {"id":"after_load","depends_on":["load"]},
              {"id":"empty","type":"shell","command":"echo nothing","depends_on":["decide"]},
              {"id":"join","depends_on":["after_load","empty"],"trigger_rule":"none_failed"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("branchy"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal("success", RunHelpers.State(run, "decide"));
        Assert.Equal("skipped", RunHelpers.State(run, "load"));
        Assert.Equal("skipped", RunHelpers.State(run, "after_load"));
        Assert.Equal("success", RunHelpers.State(run, "empty"));
        Assert.Equal("success", RunHelpers.State(run, "join"));

        var other = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("branchy", """{"conf":{"rows":5}}"""));
        Assert.Equal("success", RunHelpers.State(other, "load"));
        Assert.Equal("success", RunHelpers.State(other, "after_load"));
        Assert.Equal("skipped", RunHelpers.State(other, "empty"));
        Assert.Equal("success", RunHelpers.State(other, "join"));
    }

    [Fact]
    public async Task Branch_FollowingATaskThatIsNotDirectlyDownstream_FailsTheBranchTask()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"branch-bad","tasks":[
              {"id":"decide","type":"shell","branch":true,"command":"echo '{\"follow\": [\"deeper\"]}' > \"$SCHEDULER_OUTPUT\""},
              {"id":"next","depends_on":["decide"]},
              {"id":"deeper","depends_on":["next"]}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("branch-bad"));
        Assert.Equal("failed", RunHelpers.State(run, "decide"));
        Assert.Equal("upstream_failed", RunHelpers.State(run, "next"));
        var error = RunHelpers.Task(run, "decide").GetProperty("attempts")[0].GetProperty("error").GetString();
        Assert.Contains("'deeper', which is not a direct downstream task of 'decide' (next)", error);

        var problem = await Admin.PostJsonAsync("dags", """
            {"name":"branch-lonely","tasks":[{"id":"decide","type":"shell","branch":true,"command":"true"},{"id":"n","type":"noop","branch":true}]}
            """).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("tasks[0].branch"));
        Assert.NotEmpty(problem.Errors("tasks[1].branch"));
    }
}
