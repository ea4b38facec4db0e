using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>
/// Runs waiting for max_active_runs: started when a run of their DAG ends, never more than the
/// limit at once, and none left waiting for good (a process that died between a run's end and
/// starting the next leaves it to the scheduler loop's sweep).
/// </summary>
public sealed class WaitingRunTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task BurstOfTriggers_UnderMaxActiveRuns_AllFinish_NeverMoreThanTheLimitAtOnce()
    {
        await Admin.PostJsonAsync("dags", """{"name":"two_at_a_time","max_active_runs":2,"tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var ids = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => Operator.TriggerAsync("two_at_a_time")));
        var runs = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        foreach (var id in ids)
        {
            var run = await Viewer.WaitForRunAsync(id, TimeSpan.FromSeconds(60));
            Assert.Equal("success", run.GetProperty("state").GetString());
            runs.Add((RunHelpers.Time(run, "started_at"), RunHelpers.Time(run, "finished_at")));
        }
        // finished_at is the finishing transaction's start time and started_at the moment of the
        // starting statement, which comes after it saw that finish committed: a run started
        // into the room a finished run left never overlaps it. (With both at their transaction's
        // start, a start whose transaction began before the finish committed could read as
        // overlapping: 3 at once under a limit of 2, seen under load.)
        var overlap = runs.SelectMany(r => new[] { (r.Start, 1), (r.End, -1) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2)
            .Aggregate((Current: 0, Max: 0), (acc, e) => (acc.Current + e.Item2, Math.Max(acc.Max, acc.Current + e.Item2))).Max;
        Assert.InRange(overlap, 1, 2);
    }

    [Fact]
    public async Task QueuedRunLeftWaiting_WhileItsDagHasRoom_IsStartedByTheMaintenanceSweep()
    {
        await Admin.PostJsonAsync("dags", """{"name":"stranded","max_active_runs":1,"tasks":[{"id":"a","type":"shell","command":"sleep 30"}]}""").ExpectAsync(HttpStatusCode.Created);
        var first = await Operator.TriggerAsync("stranded");
        await Viewer.WaitForTaskAsync(first, "a", "running");
        var second = await Operator.TriggerAsync("stranded");
        Assert.Equal("queued", (await Viewer.GetAsync($"runs/{second}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        // The first run ends behind the engine's back, as if its process died between ending it
        // and starting the next: nothing but the sweep can start the second now.
        await TestDatabase.ScalarAsync<int>("update runs.dag_runs set state = 'failed', finished_at = now() where id = @id", ("id", first));
        await using (var scope = Server.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<ISender>().Send(new RunQueueMaintenance());
        var state = (await Viewer.GetAsync($"runs/{second}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString();
        Assert.Equal("running", state);
        await Operator.PostAsync($"runs/{second}/cancel", null).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task NewRun_WhileAnOlderRunWaitsForRoomJustMade_JoinsTheQueue_AndTheOlderStarts()
    {
        // Tasks in a pool of no slots: runs stay running and nothing races the test.
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"fifo","max_active_runs":1,"tasks":[{"id":"a","pool":"held"}]}""").ExpectAsync(HttpStatusCode.Created);
        var first = await Operator.TriggerAsync("fifo", """{"logical_date":"2030-03-01T00:00:00Z"}""");
        var older = await Operator.TriggerAsync("fifo", """{"logical_date":"2030-03-02T00:00:00Z"}""");
        Assert.Equal("queued", await StateAsync(older));
        // The moment between a run's end and the start of the run waiting for it: room, and a
        // run still queued. A trigger landing now must not take the room.
        await TestDatabase.ScalarAsync<int>("update runs.dag_runs set state = 'success', finished_at = now() where id = @id", ("id", first));

        var newer = await Operator.TriggerAsync("fifo", """{"logical_date":"2030-03-03T00:00:00Z"}""");

        Assert.Equal("running", await StateAsync(older));
        Assert.Equal("queued", await StateAsync(newer));
        await Operator.PostAsync($"runs/{older}/cancel", null).ExpectAsync(HttpStatusCode.OK);
        await Operator.PostAsync($"runs/{newer}/cancel", null).ExpectAsync(HttpStatusCode.OK);
    }

    private async Task<string?> StateAsync(long run) =>
        (await Viewer.GetAsync($"runs/{run}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString();
}
