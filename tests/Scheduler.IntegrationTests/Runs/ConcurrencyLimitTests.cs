using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

public sealed class ConcurrencyLimitTests(ServerFixture server) : ServerTest(server)
{
    /// <summary>The most attempts that were running at the same moment.</summary>
    private static int MaxOverlap(JsonElement run)
    {
        var events = run.GetProperty("tasks").EnumerateArray()
            .SelectMany(t => t.GetProperty("attempts").EnumerateArray())
            .SelectMany(a => new[] { (RunHelpers.Time(a, "started_at"), 1), (RunHelpers.Time(a, "finished_at"), -1) })
            .OrderBy(e => e.Item1).ThenBy(e => e.Item2);
        int current = 0, max = 0;
        foreach (var (_, delta) in events)
            max = Math.Max(max, current += delta);
        return max;
    }

    [Fact]
    public async Task Pool_CapsConcurrentTasks()
    {
        await Admin.PutJsonAsync("pools/fragile_db", """{"slots":1,"description":"one at a time"}""").ExpectAsync(HttpStatusCode.OK);
        var tasks = string.Join(",", Enumerable.Range(0, 4).Select(i => $"{{\"id\":\"t{i}\",\"type\":\"shell\",\"command\":\"sleep 0.3\",\"pool\":\"fragile_db\"}}"));
        await Admin.PostJsonAsync("dags", $"{{\"name\":\"pooled\",\"tasks\":[{tasks}]}}").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("pooled"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(1, MaxOverlap(run));
        var pools = await Viewer.GetAsync("pools").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, pools.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "fragile_db").GetProperty("slots").GetInt32());
        await Operator.PutJsonAsync("pools/x", """{"slots":1}""").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Admin.PutJsonAsync("pools/x", """{"slots":-1}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task MaxActiveTasks_CapsTasksOfOneDag()
    {
        var tasks = string.Join(",", Enumerable.Range(0, 6).Select(i => $"{{\"id\":\"t{i}\",\"type\":\"shell\",\"command\":\"sleep 0.3\"}}"));
        await Admin.PostJsonAsync("dags", $"{{\"name\":\"capped\",\"max_active_tasks\":2,\"tasks\":[{tasks}]}}").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("capped"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.InRange(MaxOverlap(run), 1, 2);
    }
}
