using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

public sealed class MarkTaskTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task MarkSuccess_OnRunningTask_StopsItAndLetsDownstreamRun()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"mark-{Guid.NewGuid():N}");
        await Admin.PostJsonAsync("dags", $$"""{"name":"stuck","tasks":[{"id":"hang","type":"shell","command":"echo $$ > {{marker}}; sleep 300"},{"id":"next","depends_on":["hang"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("stuck");
        await Viewer.WaitForTaskAsync(runId, "hang", "running");
        var run = await Operator.PostJsonAsync($"runs/{runId}/tasks/hang/mark", """{"state":"success"}""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("success", RunHelpers.State(run, "hang"));
        run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal("success", RunHelpers.State(run, "next"));
        // The worker learns at its next heartbeat that the task is no longer its own and kills it.
        var pid = int.Parse(File.ReadAllText(marker).Trim());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] != "Z" && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.False(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] != "Z", "the marked task's process is still running");
        File.Delete(marker);
    }

    [Fact]
    public async Task MarkFailed_FailsTheRun_AndDownstreamIsUpstreamFailed()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"mark-{Guid.NewGuid():N}");
        await Admin.PostJsonAsync("dags", $$"""{"name":"doomed","tasks":[{"id":"hang","type":"shell","command":"sleep 300"},{"id":"next","depends_on":["hang"]},{"id":"notify","trigger_rule":"one_failed","depends_on":["hang"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("doomed");
        await Viewer.WaitForTaskAsync(runId, "hang", "running");
        await Operator.PostJsonAsync($"runs/{runId}/tasks/hang/mark", """{"state":"failed"}""").ExpectAsync(HttpStatusCode.OK);
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal("upstream_failed", RunHelpers.State(run, "next"));
        Assert.Equal("success", RunHelpers.State(run, "notify"));
    }
}
