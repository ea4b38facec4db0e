using System.Net;
using System.Text.Json;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>
/// Regression tests of issue 12's engine defects: text a task produced that PostgreSQL text
/// refuses, deleting a DAG under its active runs, and a task whose every delivery loses its worker.
/// </summary>
public sealed class EngineDefectTests(ServerFixture server) : ServerTest(server)
{
    private const string LostWorker = "test-worker:1:lost";

    private async Task<T> SendAsync<T>(ICommand<T> command)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>A delivery to <see cref="LostWorker"/> whose lease is over at once: a worker that took the task and died.</summary>
    private static Task<(long Id, int Attempt)> DeliverToLostWorkerAsync(long runId, string taskId) =>
        FakeWorker.ClaimAsync(runId, taskId, LostWorker, TimeSpan.FromSeconds(-1));

    private async Task<JsonElement> WaitForStateAsync(long runId, string taskId, string state)
    {
        for (var i = 0; i < 100; i++)
        {
            await SendAsync(new RunQueueMaintenance());
            var task = RunHelpers.Task(await Viewer.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK), taskId);
            if (task.GetProperty("state").GetString() == state)
                return task;
            await Task.Delay(100);
        }
        throw new TimeoutException($"task {taskId} of run {runId} never became {state}");
    }

    [Fact]
    public async Task ShellTaskPrintingNul_SucceedsOnce_AndItsLogKeepsAMarkForTheNul()
    {
        await Admin.PostJsonAsync("dags", """{"name":"nul","tasks":[{"id":"a","type":"shell","command":"printf 'a\\0b'"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("nul");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        var attempt = RunHelpers.Task(run, "a").GetProperty("attempts").EnumerateArray().Single();
        Assert.Equal(1, attempt.GetProperty("deliveries").GetInt32());
        using var log = await Viewer.GetAsync($"runs/{runId}/tasks/a/logs");
        Assert.Contains("a\u2400b", await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CompletionWithNulInLogAndError_IsRecorded_WithTheNulMarkedEverywhere()
    {
        // Straight to the engine, as a worker that does not clean its text would report.
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"nul_error","tasks":[{"id":"a","pool":"held"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("nul_error");
        var (id, attempt) = await DeliverToLostWorkerAsync(runId, "a");
        await SendAsync(new AppendTaskLog(id, attempt, "out\0put "));
        var counted = await SendAsync(new CompleteTasks([new CompleteTask(id, runId, "a", attempt, LostWorker, AttemptOutcome.Failed, 1, "bad\0byte \ud800", "tail\0")]));

        Assert.Equal(1, counted);
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var recorded = RunHelpers.Task(run, "a").GetProperty("attempts")[0];
        Assert.Equal("bad\u2400byte \ufffd", recorded.GetProperty("error").GetString());
        using var log = await Viewer.GetAsync($"runs/{runId}/tasks/a/logs");
        Assert.Equal("out\u2400put tail\u2400", await log.Content.ReadAsStringAsync());
        var letter = (await Admin.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal("bad\u2400byte \ufffd", letter.GetProperty("error").GetString());
    }

    [Fact]
    public async Task DeleteDag_AnswersConflict_WhileARunIsActive_AndDeletesOnceItIsCancelled()
    {
        await Admin.PostJsonAsync("dags", """{"name":"busy","tasks":[{"id":"long","type":"shell","command":"sleep 60"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"done","tasks":[{"id":"a","type":"shell","command":"echo kept"}]}""").ExpectAsync(HttpStatusCode.Created);
        var finished = await Operator.TriggerAsync("done");
        await Viewer.WaitForRunAsync(finished);
        var runId = await Operator.TriggerAsync("busy");
        await Viewer.WaitForTaskAsync(runId, "long", "running");

        var problem = await Admin.DeleteAsync("dags/busy").ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("1 active run", problem.GetProperty("detail").GetString());
        Assert.Equal("running", RunHelpers.State(await Viewer.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK), "long"));
        await Admin.GetAsync("dags/busy").ExpectAsync(HttpStatusCode.OK);

        await Operator.PostJsonAsync($"runs/{runId}/cancel", "{}").ExpectAsync(HttpStatusCode.OK);
        await Admin.DeleteAsync("dags/busy").ExpectAsync(HttpStatusCode.NoContent);
        await Admin.DeleteAsync("dags/done").ExpectAsync(HttpStatusCode.NoContent);

        // A finished run outlives its DAG: its detail and logs still answer.
        Assert.Equal("cancelled", (await Viewer.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        Assert.Equal("success", (await Viewer.GetAsync($"runs/{finished}").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        using var log = await Viewer.GetAsync($"runs/{finished}/tasks/a/logs");
        Assert.Equal(HttpStatusCode.OK, log.StatusCode);
        Assert.Contains("kept", await log.Content.ReadAsStringAsync());
        // Operating on it answers (not 500): its plan is gone, so there is nothing to rerun.
        using var clear = await Operator.PostAsync($"runs/{finished}/tasks/a/clear", null);
        Assert.True(clear.StatusCode < HttpStatusCode.InternalServerError, $"clear answered {clear.StatusCode}");
    }

    [Fact]
    public async Task TaskWhoseWorkerIsLostOnEveryDelivery_FailsAfterMaxDeliveries_WithADeadLetter()
    {
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"killer","tasks":[{"id":"a","pool":"held","retries":2},{"id":"b","pool":"held","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("killer");

        for (var delivery = 1; delivery <= 3; delivery++)
        {
            var (_, attempt) = await DeliverToLostWorkerAsync(runId, "a");
            Assert.Equal(1, attempt);
            await WaitForStateAsync(runId, "a", delivery < 3 ? "queued" : "failed");
        }

        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal("upstream_failed", RunHelpers.State(run, "b"));
        var task = RunHelpers.Task(run, "a");
        Assert.Equal(1, task.GetProperty("attempt").GetInt32());
        var lost = task.GetProperty("attempts").EnumerateArray().Single();
        Assert.Equal("lost", lost.GetProperty("state").GetString());
        Assert.Equal(3, lost.GetProperty("deliveries").GetInt32());
        const string reason = "delivered 3 times and its worker was lost each time (crashed, killed or out of memory); not delivered again";
        Assert.Equal(reason, lost.GetProperty("error").GetString());
        var letter = (await Admin.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(runId, letter.GetProperty("run_id").GetInt64());
        Assert.Equal("a", letter.GetProperty("task_id").GetString());
        Assert.Equal(reason, letter.GetProperty("error").GetString());
        using var log = await Viewer.GetAsync($"runs/{runId}/tasks/a/logs");
        Assert.Contains("--- lost: delivered 3 times", await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DeliveriesHandedBackOnShutdown_DoNotCountTowardsTheCap()
    {
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"restarted","tasks":[{"id":"a","pool":"held"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("restarted");
        for (var restart = 0; restart < 3; restart++)
        {
            var (id, _) = await FakeWorker.ClaimAsync(runId, "a", LostWorker, TimeSpan.FromMinutes(1));
            Assert.Equal(1, await SendAsync(new ReleaseTasks(LostWorker, [id])));
        }
        await DeliverToLostWorkerAsync(runId, "a");

        var task = await WaitForStateAsync(runId, "a", "queued");
        Assert.Equal(4, task.GetProperty("attempts")[0].GetProperty("deliveries").GetInt32());
    }
}
