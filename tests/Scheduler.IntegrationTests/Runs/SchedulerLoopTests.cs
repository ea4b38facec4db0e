using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>
/// The scheduler loop sleeps while nothing is due (its safety wake is a minute away); what
/// happens meanwhile must still be on time: a NOTIFY wakes it for a new or unpaused schedule,
/// and it sleeps exactly until a retry is due.
/// </summary>
public sealed class SchedulerLoopTests(ServerFixture server) : ServerTest(server)
{
    /// <summary>Nothing is scheduled or queued after the reset: give the loop time to go to sleep.</summary>
    private static Task LetTheLoopFallAsleep() => Task.Delay(TimeSpan.FromSeconds(1.5));

    private async Task<List<JsonElement>> WaitForRunsAsync(string dag, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var runs = (await Viewer.GetAsync($"dags/{dag}/runs?limit=100").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
            if (runs.Count >= count)
                return runs;
            Assert.True(DateTime.UtcNow < deadline, $"only {runs.Count} run(s) of {dag} after 15 s");
            await Task.Delay(100);
        }
    }

    private static TimeSpan CreationLag(JsonElement run) => RunHelpers.Time(run, "queued_at") - RunHelpers.Time(run, "logical_date");

    [Fact]
    public async Task DagCreatedWhileTheLoopSleeps_GetsItsVeryFirstSecond_OnTime()
    {
        await LetTheLoopFallAsleep();
        var dag = await Admin.PostJsonAsync("dags", """{"name":"soon","cron":"* * * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var first = RunHelpers.Time(dag, "next_run_at");

        var runs = await WaitForRunsAsync("soon", 3);
        Assert.Contains(runs, r => RunHelpers.Time(r, "logical_date") == first);
        // A missed NOTIFY would leave the loop asleep for its safety minute (the wait above
        // fails); woken, each run exists before the next second is due. How soon within that
        // second is the benchmark harness's to measure (P1), not a timed test's: on a loaded
        // 2-core CI machine a half-second bound failed by 7 ms.
        Assert.All(runs, r => Assert.True(CreationLag(r) < TimeSpan.FromSeconds(1), $"created {CreationLag(r).TotalMilliseconds} ms after its second"));
    }

    [Fact]
    public async Task DagUnpausedWhileTheLoopSleeps_IsScheduledAtOnce()
    {
        await Admin.PostJsonAsync("dags", """{"name":"held","cron":"* * * * * *","paused":true,"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await LetTheLoopFallAsleep();
        var unpausedAt = DateTimeOffset.UtcNow;
        await Operator.PostAsync("dags/held/unpause", null).ExpectAsync(HttpStatusCode.OK);

        var runs = await WaitForRunsAsync("held", 2);
        Assert.True(runs.Min(r => RunHelpers.Time(r, "queued_at")) - unpausedAt < TimeSpan.FromSeconds(1.2));
    }

    [Fact]
    public async Task RetryDueWhileTheLoopSleeps_StartsAtItsDueTime()
    {
        await Admin.PostJsonAsync("dags", """{"name":"again","tasks":[{"id":"f","type":"shell","command":"test $SCHEDULER_ATTEMPT -ge 2","retries":1,"retry_delay":3}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("again");
        await Viewer.WaitForTaskAsync(runId, "f", "up_for_retry");
        var due = await TestDatabase.ScalarAsync<DateTime>("select not_before from runs.task_instances where run_id = @r and task_id = 'f'", ("r", runId));

        var run = await Viewer.WaitForRunAsync(runId, TimeSpan.FromSeconds(20));
        Assert.Equal("success", run.GetProperty("state").GetString());
        var second = RunHelpers.Task(run, "f").GetProperty("attempts")[1];
        // Nothing else is queued or running, so the loop sleeps until the retry's due time
        // (not until a maintenance tick) and the NOTIFY of its requeue brings a worker at once.
        var late = RunHelpers.Time(second, "started_at") - new DateTimeOffset(DateTime.SpecifyKind(due, DateTimeKind.Utc));
        Assert.InRange(late.TotalSeconds, 0, 0.35);
    }
}
