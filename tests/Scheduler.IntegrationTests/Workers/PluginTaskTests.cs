using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Workers;

/// <summary>A plugin assembly in the plugins folder adds a task type the whole server knows.</summary>
public sealed class PluginTaskTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task PluginType_IsAcceptedWithItsOwnFields_AndRuns()
    {
        await Admin.PostJsonAsync("dags", """{"name":"plug","tasks":[{"id":"say","type":"echo","message":"from a plugin"},{"id":"boom","type":"echo","message":"fail","retries":0}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("plug"));
        Assert.Equal("success", RunHelpers.State(run, "say"));
        Assert.Equal("failed", RunHelpers.State(run, "boom"));
        using var log = await Viewer.GetAsync($"runs/{run.GetProperty("run_id").GetInt64()}/tasks/say/logs");
        Assert.Contains("echo: from a plugin", await log.Content.ReadAsStringAsync());
        var problem = await Admin.PostJsonAsync("dags", """{"name":"x","tasks":[{"id":"a","type":"ech0"}]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("echo", problem.Errors("tasks[0].type")[0]);
    }
}
