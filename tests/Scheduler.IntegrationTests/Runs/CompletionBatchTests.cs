using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>
/// One completion report carrying outcomes of several runs (what the worker sends under load)
/// is recorded in one transaction with the same effects as run-by-run reports: each run's own
/// counters, final state, trigger rules, dead letters and waiting runs.
/// </summary>
public sealed class CompletionBatchTests(ServerFixture server) : ServerTest(server)
{
    private const string Worker = "test-worker:1:batch";

    /// <summary>
    /// Claims a queued task for <see cref="Worker"/>. The tasks sit in a pool without slots,
    /// so the server's own worker never takes them.
    /// </summary>
    private static async Task<CompleteTaskRef> ClaimAsync(long runId, string taskId)
    {
        var (id, attempt) = await FakeWorker.ClaimAsync(runId, taskId, Worker, TimeSpan.FromMinutes(1));
        return new CompleteTaskRef(id, runId, taskId, attempt);
    }

    private sealed record CompleteTaskRef(long TaskInstanceId, long RunId, string TaskId, int Attempt)
    {
        public CompleteTask Outcome(AttemptOutcome outcome, string log, string worker = Worker, string? error = null) =>
            new(TaskInstanceId, RunId, TaskId, Attempt, worker, outcome, outcome == AttemptOutcome.Success ? 0 : 1, error, log);
    }

    [Fact]
    public async Task OutcomesOfSeveralRuns_InOneReport_EachRunEndsAsIfReportedAlone()
    {
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"single","tasks":[{"id":"a","pool":"held"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"fragile","tasks":[{"id":"a","pool":"held"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"chain","tasks":[{"id":"a","pool":"held"},{"id":"b","pool":"held","depends_on":["a"]},{"id":"c","pool":"held","depends_on":["a"],"trigger_rule":"all_failed"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"one_at_a_time","max_active_runs":1,"tasks":[{"id":"a","pool":"held"}]}""").ExpectAsync(HttpStatusCode.Created);

        var single = await Admin.TriggerAsync("single");
        var fragile = await Admin.TriggerAsync("fragile");
        var chain = await Admin.TriggerAsync("chain");
        var first = await Admin.TriggerAsync("one_at_a_time", """{"logical_date":"2026-01-01T00:00:00Z"}""");
        var waiting = await Admin.TriggerAsync("one_at_a_time", """{"logical_date":"2026-01-02T00:00:00Z"}""");
        Assert.Equal("queued", (await Viewer.GetAsync($"runs/{waiting}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());

        var singleA = await ClaimAsync(single, "a");
        var fragileA = await ClaimAsync(fragile, "a");
        var chainA = await ClaimAsync(chain, "a");
        var firstA = await ClaimAsync(first, "a");
        // A report from a worker that no longer holds the attempt counts for nothing but keeps its log.
        var staleOfFirst = firstA.Outcome(AttemptOutcome.Failed, "late report\n", worker: "lost-worker:2:gone");

        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var counted = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new CompleteTasks([
                singleA.Outcome(AttemptOutcome.Success, "single ok\n"),
                fragileA.Outcome(AttemptOutcome.Failed, "fragile broke\n", error: "exit code 1"),
                chainA.Outcome(AttemptOutcome.Success, "chain a ok\n"),
                firstA.Outcome(AttemptOutcome.Success, "first ok\n"),
                staleOfFirst,
            ]));
            Assert.Equal(4, counted);
        }

        var singleRun = await Viewer.GetAsync($"runs/{single}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("success", singleRun.GetProperty("state").GetString());
        var fragileRun = await Viewer.GetAsync($"runs/{fragile}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("failed", fragileRun.GetProperty("state").GetString());
        Assert.Equal("failed", RunHelpers.State(fragileRun, "a"));
        var chainRun = await Viewer.GetAsync($"runs/{chain}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("running", chainRun.GetProperty("state").GetString());
        Assert.Equal("queued", RunHelpers.State(chainRun, "b"));
        Assert.Equal("skipped", RunHelpers.State(chainRun, "c"));
        Assert.Equal("success", (await Viewer.GetAsync($"runs/{first}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        // The finished run made room: the waiting run of the same DAG started in the same transaction.
        var waitingRun = await Viewer.GetAsync($"runs/{waiting}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("running", waitingRun.GetProperty("state").GetString());
        Assert.Equal("queued", RunHelpers.State(waitingRun, "a"));

        // The dead letter names its own run and DAG, not another run's of the batch.
        Assert.Equal("fragile", await TestDatabase.ScalarAsync<string>("select dag_name from runs.dead_letters where run_id = @r", ("r", fragile)));
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(*) from runs.dead_letters"));
        Assert.Equal("first ok\nlate report\n", await TestDatabase.ScalarAsync<string>(
            "select log from runs.task_attempts where task_instance_id = @t and attempt = @a", ("t", firstA.TaskInstanceId), ("a", firstA.Attempt)));
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from runs.task_instances where worker_id = @w", ("w", Worker)));
    }
}
