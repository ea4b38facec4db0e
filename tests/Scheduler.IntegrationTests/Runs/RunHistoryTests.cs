using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs;

namespace Scheduler.IntegrationTests.Runs;

public sealed class RunHistoryTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task LastRunState_IsShownOnDagAndInList()
    {
        await Admin.PostJsonAsync("dags", """{"name":"shown","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await Viewer.GetAsync("dags/shown").ExpectAsync(HttpStatusCode.OK)).GetProperty("last_run_state").ValueKind);
        await Viewer.WaitForRunAsync(await Operator.TriggerAsync("shown"));
        Assert.Equal("success", (await Viewer.GetAsync("dags/shown").ExpectAsync(HttpStatusCode.OK)).GetProperty("last_run_state").GetString());
        var listed = await Viewer.GetAsync("dags?q=shown").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("success", listed.GetProperty("items")[0].GetProperty("last_run_state").GetString());
    }

    [Fact]
    public async Task Retention_DeletesOnlyFinishedRunsPastThePeriod()
    {
        await Admin.PostJsonAsync("dags", """{"name":"old","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var oldRun = await Operator.TriggerAsync("old", """{"logical_date":"2020-01-01T00:00:00Z"}""");
        var newRun = await Operator.TriggerAsync("old", """{"logical_date":"2020-01-02T00:00:00Z"}""");
        await Viewer.WaitForRunAsync(oldRun);
        await Viewer.WaitForRunAsync(newRun);
        await TestDatabase.ScalarAsync<int>($"update runs.dag_runs set finished_at = now() - interval '200 days' where id = {oldRun}");
        await using var scope = Server.Services.CreateAsyncScope();
        Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<ISender>().Send(new PurgeOldRuns.Command()));
        await Viewer.GetAsync($"runs/{oldRun}").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Viewer.GetAsync($"runs/{newRun}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>($"select count(*) from runs.task_instances where run_id = {oldRun}"));
    }
}
