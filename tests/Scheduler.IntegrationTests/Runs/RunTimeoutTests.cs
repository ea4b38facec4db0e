using System.Net;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>The DAG-level <c>timeout</c> (docs/authoring.md) and the wait task's validation.</summary>
public sealed class RunTimeoutTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task DagTimeout_FailsTheRun_StopsItsRunningTask_AndSaysWhy()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"timeout-{Guid.NewGuid():N}");
        await Admin.PostJsonAsync("dags", $$"""
            {"name":"bounded","timeout":"PT2S","tasks":[
              {"id":"long","type":"shell","command":"echo $$ > {{marker}}; sleep 300"},
              {"id":"gate","type":"wait","signal":true},
              {"id":"after","depends_on":["long"]}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("bounded");
        await Viewer.WaitForTaskAsync(runId, "long", "running");
        var run = await Viewer.WaitForRunAsync(runId, TimeSpan.FromSeconds(20));
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Contains("timed out", run.GetProperty("reason").GetString());
        Assert.Equal("cancelled", RunHelpers.State(run, "long"));
        Assert.Equal("cancelled", RunHelpers.State(run, "gate"));
        Assert.Equal("cancelled", RunHelpers.State(run, "after"));
        var elapsed = RunHelpers.Time(run, "finished_at") - RunHelpers.Time(run, "started_at");
        Assert.True(elapsed >= TimeSpan.FromSeconds(2) && elapsed < TimeSpan.FromSeconds(10), $"ended after {elapsed}");
        // The worker's cancellation path killed the shell task's process.
        var pid = int.Parse(File.ReadAllText(marker).Trim());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Alive(pid) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.False(Alive(pid), "the timed-out run's shell task is still running");
        File.Delete(marker);
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        Assert.Contains("data-testid=\"run-reason\">timed out", await admin.GetHtmlAsync($"/admin/runs/{runId}"));
    }

    [Fact]
    public async Task RunWithinItsTimeout_Succeeds()
    {
        await Admin.PostJsonAsync("dags", """{"name":"roomy","timeout":"PT1M","tasks":[{"id":"quick","type":"shell","command":"true"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("roomy"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.False(run.TryGetProperty("reason", out _), run.ToString());
    }

    [Fact]
    public async Task ClearingATaskOfATimedOutRun_ReopensIt_WithoutTheTimeout()
    {
        await Admin.PostJsonAsync("dags", """{"name":"rerun","timeout":"PT1S","tasks":[{"id":"pause","type":"wait","delay":"PT3S"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("rerun");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal("cancelled", RunHelpers.State(run, "pause"));
        await Operator.PostJsonAsync($"runs/{runId}/tasks/pause/clear", "{}").ExpectAsync(HttpStatusCode.OK);
        run = await Viewer.WaitForRunAsync(runId, TimeSpan.FromSeconds(20), ["success", "cancelled"]);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.False(run.TryGetProperty("reason", out _), run.ToString());
    }

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] != "Z";

    [Theory]
    [InlineData("""{"id":"w","type":"wait"}""", "tasks[0].until", "exactly one")]
    [InlineData("""{"id":"w","type":"wait","until":"2027-01-01T00:00:00Z","delay":"PT1M"}""", "tasks[0].delay", "exactly one")]
    [InlineData("""{"id":"w","type":"wait","until":"tomorrow"}""", "tasks[0].until", "ISO-8601")]
    [InlineData("""{"id":"w","type":"wait","until":"{{ params.at"}""", "tasks[0].until", "template")]
    [InlineData("""{"id":"w","type":"wait","delay":"PT0S"}""", "tasks[0].delay", "more than 0")]
    [InlineData("""{"id":"w","type":"wait","delay":"soon"}""", "tasks[0].delay", "")]
    [InlineData("""{"id":"w","type":"wait","signal":false}""", "tasks[0].signal", "must be true")]
    [InlineData("""{"id":"w","type":"wait","http":{}}""", "tasks[0].http.uri", "needs 'uri'")]
    [InlineData("""{"id":"w","type":"wait","http":{"uri":"ftp://x"}}""", "tasks[0].http.uri", "http(s)")]
    [InlineData("""{"id":"w","type":"wait","http":{"uri":"http://127.0.0.1/","expect_status":[42]}}""", "tasks[0].http.expect_status[0]", "between 100 and 599")]
    [InlineData("""{"id":"w","type":"wait","http":{"uri":"http://127.0.0.1/","poke_interval":"PT0.1S"}}""", "tasks[0].http.poke_interval", "between 1 second")]
    [InlineData("""{"id":"w","type":"wait","http":{"uri":"http://127.0.0.1/","method":"POST"}}""", "tasks[0].http.method", "unknown field")]
    [InlineData("""{"id":"w","type":"wait","signal":true,"command":"true"}""", "tasks[0].command", "shell field")]
    [InlineData("""{"id":"w","type":"shell","command":"true","signal":true}""", "tasks[0].signal", "wait field")]
    public async Task InvalidWait_Is400_KeyedByPath(string task, string key, string message)
    {
        var problem = await Admin.PostJsonAsync("dags", $$"""{"name":"bad_wait","tasks":[{{task}}]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors(key), m => m.Contains(message));
    }

    [Fact]
    public async Task InvalidDagTimeout_Is400()
    {
        var problem = await Admin.PostJsonAsync("dags", """{"name":"bad_timeout","timeout":"PT0S","tasks":[{"id":"a"}]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors("timeout"), m => m.Contains("between 1 second and 30 days"));
    }
}
