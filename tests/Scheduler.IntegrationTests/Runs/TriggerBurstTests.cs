using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>Many clients triggering one DAG at once: triggers are created together, none is lost or refused.</summary>
public sealed class TriggerBurstTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task ConcurrentTriggers_WithoutLogicalDate_AllCreated_WithDistinctDates_AndAllFinish()
    {
        await Admin.PostJsonAsync("dags", """{"name":"burst","max_active_runs":1000,"tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var runs = await Task.WhenAll(Enumerable.Range(0, 80).Select(_ => Operator.PostJsonAsync("dags/burst/runs", "{}").ExpectAsync(HttpStatusCode.Created)));
        Assert.Equal(80, runs.Select(r => r.GetProperty("run_id").GetInt64()).Distinct().Count());
        Assert.Equal(80, runs.Select(r => r.GetProperty("logical_date").GetString()).Distinct().Count());
        foreach (var run in runs)
            Assert.Equal("success", (await Viewer.WaitForRunAsync(run.GetProperty("run_id").GetInt64())).GetProperty("state").GetString());
    }

    [Fact]
    public async Task ConcurrentTriggers_OfOneExplicitLogicalDate_CreateOneRun_AndRefuseTheRest()
    {
        await Admin.PostJsonAsync("dags", """{"name":"same_date","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Operator.PostJsonAsync("dags/same_date/runs", """{"logical_date":"2031-01-01T00:00:00Z"}""")));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(11, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        var list = await Viewer.GetAsync("dags/same_date/runs").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, list.GetProperty("items").GetArrayLength());
    }
}
