using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>
/// The eager hand-off: a completion's transaction claims the queued tasks it made claimable
/// for the worker that reported it, as a claim would (attempt row, lease, worker), and never
/// a constrained task (a limited pool, max_active_tasks).
/// </summary>
public sealed class HandOffTests(ServerFixture server) : ServerTest(server)
{
    private const string Worker = "test-worker:1:handoff";

    private async Task<long> TriggerHeldRootAsync(string dag, string downstream, string dagOptions = "")
    {
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", $$"""{"name":"{{dag}}",{{dagOptions}}"tasks":[{"id":"a","pool":"held"},{"id":"b",{{downstream}}"depends_on":["a"]}]}""")
            .ExpectAsync(HttpStatusCode.Created);
        return await Admin.TriggerAsync(dag);
    }

    private async Task<CompletedTasks> CompleteAAsync(long runId, int handOff)
    {
        var (id, attempt) = await FakeWorker.ClaimAsync(runId, "a", Worker, TimeSpan.FromMinutes(1));
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(new CompleteAndClaimTasks(
            [new CompleteTask(id, runId, "a", attempt, Worker, AttemptOutcome.Success, 0, null, "a ok\n")], Worker, handOff, TimeSpan.FromMinutes(1)));
    }

    private static Task<T?> OfTaskAsync<T>(long runId, string taskId, string column) =>
        TestDatabase.ScalarAsync<T>($"select {column} from runs.task_instances where run_id = @r and task_id = @t", ("r", runId), ("t", taskId));

    [Fact]
    public async Task CompleteAndClaimTasks_HandsTheQueuedDownstreamTask_ToTheReportingWorker()
    {
        var run = await TriggerHeldRootAsync("handed", downstream: "");

        var completed = await CompleteAAsync(run, handOff: 1);

        Assert.Equal(1, completed.Counted);
        var handed = Assert.Single(completed.HandedOff);
        Assert.Equal((run, "b", 1, "handed"), (handed.RunId, handed.TaskId, handed.Attempt, handed.DagName));
        Assert.Equal("running", await OfTaskAsync<string>(run, "b", "state"));
        Assert.Equal(Worker, await OfTaskAsync<string>(run, "b", "worker_id"));
        Assert.True(await OfTaskAsync<bool>(run, "b", "lease_expires_at > now()"));
        // Claimed in the completion's own transaction.
        Assert.Equal(await OfTaskAsync<DateTime>(run, "a", "finished_at"), await OfTaskAsync<DateTime>(run, "b", "started_at"));
        Assert.Equal("running", await TestDatabase.ScalarAsync<string>(
            "select state from runs.task_attempts where task_instance_id = @t and attempt = 1 and worker_id = @w", ("t", handed.TaskInstanceId), ("w", Worker)));

        await using (var scope = Server.Services.CreateAsyncScope())
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<ISender>().Send(new CompleteTasks(
                [new CompleteTask(handed.TaskInstanceId, run, "b", 1, Worker, AttemptOutcome.Success, 0, null, "b ok\n")])));
        Assert.Equal("success", (await Viewer.GetAsync($"runs/{run}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("all_handed_off", "", 1, false)]
    [InlineData("one_left_queued", "{\"id\":\"c\",\"depends_on\":[\"a\"]},", 1, true)]
    public async Task CompleteAndClaimTasks_WakesWorkers_OnlyForTasksLeftQueued(string dag, string sibling, int handOff, bool notified)
    {
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", $$"""{"name":"{{dag}}","tasks":[{{sibling}}{"id":"a","pool":"held"},{"id":"b","depends_on":["a"]}]}""")
            .ExpectAsync(HttpStatusCode.Created);
        var run = await Admin.TriggerAsync(dag);
        await using var listener = new NpgsqlConnection(TestDatabase.ConnectionString);
        await listener.OpenAsync();
        await using (var listen = new NpgsqlCommand($"listen {Channels.Queue}", listener))
            await listen.ExecuteNonQueryAsync();

        var completed = await CompleteAAsync(run, handOff);

        Assert.Single(completed.HandedOff);
        Assert.Equal(notified, await listener.WaitAsync(TimeSpan.FromMilliseconds(notified ? 5000 : 500)));
    }

    [Theory]
    [InlineData("in_a_limited_pool", "\"pool\":\"held\",", "", 1)]
    [InlineData("under_max_active_tasks", "", "\"max_active_tasks\":5,", 1)]
    [InlineData("without_a_free_slot", "", "", 0)]
    public async Task CompleteAndClaimTasks_HandsOffNothing_ForConstrainedTasksOrWithoutASlot(string dag, string downstream, string dagOptions, int handOff)
    {
        var run = await TriggerHeldRootAsync(dag, downstream, dagOptions);

        var completed = await CompleteAAsync(run, handOff);

        Assert.Equal(1, completed.Counted);
        Assert.Empty(completed.HandedOff);
        Assert.NotEqual(Worker, await OfTaskAsync<string>(run, "b", "worker_id"));
    }

    [Fact]
    public async Task Worker_RunsAChainsNextTask_ByHandOff_ButClaimsConstrainedOnesAfterTheCommit()
    {
        await Admin.PostJsonAsync("dags", """{"name":"chain3","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]},{"id":"c","depends_on":["b"]}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"limited","max_active_tasks":4,"tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var chain = await Admin.TriggerAsync("chain3");
        var limited = await Admin.TriggerAsync("limited");
        Assert.Equal("success", (await Viewer.WaitForRunAsync(chain)).GetProperty("state").GetString());
        Assert.Equal("success", (await Viewer.WaitForRunAsync(limited)).GetProperty("state").GetString());

        foreach (var (upstream, downstream) in new[] { ("a", "b"), ("b", "c") })
            Assert.Equal(await OfTaskAsync<DateTime>(chain, upstream, "finished_at"), await OfTaskAsync<DateTime>(chain, downstream, "started_at"));
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(distinct worker_id) from runs.task_attempts where run_id = @r", ("r", chain)));
        Assert.True(await OfTaskAsync<DateTime>(limited, "a", "finished_at") < await OfTaskAsync<DateTime>(limited, "b", "started_at"));
    }
}
