using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Audit;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>Task type wait (docs/scheduling.md, "Waits"): each kind, signal, timeout, slots.</summary>
public sealed class WaitTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task UntilTemplate_ParksTheTask_ThenSucceedsAtTheInstant()
    {
        await Admin.PostJsonAsync("dags", """{"name":"until","tasks":[{"id":"hold","type":"wait","until":"{{ params.at }}"},{"id":"after","depends_on":["hold"]}]}""")
            .ExpectAsync(HttpStatusCode.Created);
        var at = DateTimeOffset.UtcNow.AddSeconds(2);
        var runId = await Operator.TriggerAsync("until", $$$"""{"conf":{"at":"{{{at:O}}}"}}""");
        var waiting = await Viewer.WaitForTaskAsync(runId, "hold", "waiting");
        // Parked: no worker, no lease; its wake-up is the instant waited for.
        Assert.False(waiting.TryGetProperty("worker_id", out var worker) && worker.ValueKind != JsonValueKind.Null, waiting.ToString());
        Assert.Equal(at, RunHelpers.Time(waiting, "not_before"), TimeSpan.FromMilliseconds(1));
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        var hold = RunHelpers.Task(run, "hold");
        Assert.True(RunHelpers.Time(hold, "finished_at") >= at, $"finished before {at:O}: {hold}");
        Assert.Equal(1, hold.GetProperty("attempt").GetInt32());
        Assert.Equal("success", RunHelpers.State(run, "after"));
    }

    [Fact]
    public async Task Delay_ParksForTheDuration()
    {
        await Admin.PostJsonAsync("dags", """{"name":"delayed","tasks":[{"id":"pause","type":"wait","delay":"PT2S"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("delayed");
        await Viewer.WaitForTaskAsync(runId, "pause", "waiting");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        var attempt = RunHelpers.Task(run, "pause").GetProperty("attempts")[0];
        Assert.Equal("success", attempt.GetProperty("state").GetString());
        Assert.True(RunHelpers.Time(attempt, "finished_at") - RunHelpers.Time(attempt, "started_at") >= TimeSpan.FromSeconds(1.9), attempt.ToString());
    }

    [Fact]
    public async Task HttpWait_PokesUntilTheExpectedStatus_AndKeepsTheResponseAsOutput()
    {
        using var listener = new RecordingListener { Respond = (n, _) => n == 1 ? (503, "not yet") : (200, """{"ready":true}""") };
        await Admin.PostJsonAsync("dags", $$$"""
            {"name":"poked","tasks":[{"id":"ready","type":"wait","http":{"uri":"{{{listener.Url}}}/health/{{ run_id }}","expect_status":[200],"poke_interval":"PT1S"}}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("poked");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        var requests = await listener.WaitForAsync(2);
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.Equal($"/health/{runId}", r.Path));
        // Both pokes were one attempt: the same row, one delivery.
        var task = RunHelpers.Task(run, "ready");
        Assert.Equal(1, task.GetProperty("attempt").GetInt32());
        var attempt = Assert.Single(task.GetProperty("attempts").EnumerateArray());
        Assert.Equal(1, attempt.GetProperty("deliveries").GetInt32());
        var output = await Viewer.GetAsync($"runs/{runId}/tasks/ready/output").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(200, output.GetProperty("status").GetInt32());
        Assert.True(output.GetProperty("body").GetProperty("ready").GetBoolean());
        var log = await Viewer.GetStringAsync($"runs/{runId}/tasks/ready/logs");
        Assert.Contains("503", log);
        Assert.Contains("next poke", log);
    }

    [Fact]
    public async Task HttpWait_ThatNeverAnswersAsExpected_TimesOut()
    {
        using var listener = new RecordingListener { Respond = (_, _) => (503, "down") };
        await Admin.PostJsonAsync("dags", $$$"""
            {"name":"never","tasks":[{"id":"ready","type":"wait","timeout":"PT2S","http":{"uri":"{{{listener.Url}}}/x","poke_interval":"PT1S"}}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("never"));
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var attempt = Assert.Single(RunHelpers.Task(run, "ready").GetProperty("attempts").EnumerateArray());
        Assert.Equal("timed_out", attempt.GetProperty("state").GetString());
        // Poked at the start and about once a second until the deadline, never after it.
        var pokes = listener.Requests.Count;
        Assert.InRange(pokes, 2, 4);
        await Task.Delay(1500);
        Assert.Equal(pokes, listener.Requests.Count);
    }

    [Fact]
    public async Task Signal_WithBody_BecomesTheOutput_ThatDownstreamTemplatesRead()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"approval","tasks":[
              {"id":"approve","type":"wait","signal":true},
              {"id":"ship","type":"shell","depends_on":["approve"],"command":"echo '{\"by\":\"{{ outputs.approve.by }}\"}' > \"$SCHEDULER_OUTPUT\""}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("approval");
        await Viewer.WaitForTaskAsync(runId, "approve", "waiting");
        await Viewer.PostJsonAsync($"runs/{runId}/tasks/approve/signal", "{}").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/ship/signal", "{}").ExpectProblemAsync(HttpStatusCode.Conflict);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/nope/signal", "{}").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Operator.PostJsonAsync($"runs/{runId + 1000}/tasks/approve/signal", "{}").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/approve/signal", """{"by":"alice"}""").ExpectAsync(HttpStatusCode.OK);
        // A second signal finds the task no longer waiting.
        await Operator.PostJsonAsync($"runs/{runId}/tasks/approve/signal", """{"by":"bob"}""").ExpectProblemAsync(HttpStatusCode.Conflict);
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal("alice", (await Viewer.GetAsync($"runs/{runId}/tasks/approve/output").ExpectAsync(HttpStatusCode.OK)).GetProperty("by").GetString());
        Assert.Equal("alice", (await Viewer.GetAsync($"runs/{runId}/tasks/ship/output").ExpectAsync(HttpStatusCode.OK)).GetProperty("by").GetString());
        var audit = Assert.Single(await Admin.AuditAsync("action=task.signal"));
        Assert.Equal($"run/{runId}/task/approve", audit.GetProperty("target").GetString());
    }

    [Fact]
    public async Task Signal_WithoutBody_SucceedsWithoutOutput()
    {
        await Admin.PostJsonAsync("dags", """{"name":"gate","tasks":[{"id":"gate","type":"wait","signal":true}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("gate");
        await Viewer.WaitForTaskAsync(runId, "gate", "waiting");
        using (var empty = await Operator.PostAsync($"runs/{runId}/tasks/gate/signal", null))
            Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Equal("success", (await Viewer.WaitForRunAsync(runId)).GetProperty("state").GetString());
        await Viewer.GetAsync($"runs/{runId}/tasks/gate/output").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WaitPastItsTimeout_TimesOut_AfterItsRetries()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"impatient","tasks":[{"id":"gate","type":"wait","signal":true,"timeout":"PT1S","retries":1,"retry_delay":0},{"id":"fallback","depends_on":["gate"],"trigger_rule":"one_failed"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("impatient");
        var run = await Viewer.WaitForRunAsync(runId, TimeSpan.FromSeconds(20));
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var gate = RunHelpers.Task(run, "gate");
        Assert.Equal("failed", gate.GetProperty("state").GetString());
        Assert.Equal(["timed_out", "timed_out"], gate.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("state").GetString()));
        Assert.Contains("timed out", gate.GetProperty("attempts")[1].GetProperty("error").GetString());
        Assert.Equal("success", RunHelpers.State(run, "fallback"));
    }

    [Fact]
    public async Task WaitingTasks_HoldNoSlot_InAPoolOfOne()
    {
        await Admin.PutJsonAsync("pools/solo", """{"slots":1}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """
            {"name":"crowded","defaults":{"pool":"solo"},"tasks":[
              {"id":"w1","type":"wait","signal":true},{"id":"w2","type":"wait","signal":true},{"id":"w3","type":"wait","delay":"PT1H"},
              {"id":"work","type":"shell","command":"echo done"},
              {"id":"more","type":"shell","command":"echo more"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("crowded");
        await Viewer.WaitForTaskAsync(runId, "work", "success");
        var run = await Viewer.WaitForTaskAsync(runId, "more", "success");
        foreach (var wait in new[] { "w1", "w2", "w3" })
            await Viewer.WaitForTaskAsync(runId, wait, "waiting");
        await Operator.PostJsonAsync($"runs/{runId}/tasks/w1/signal", "{}").ExpectAsync(HttpStatusCode.OK);
        await Operator.PostJsonAsync($"runs/{runId}/tasks/w2/signal", "{}").ExpectAsync(HttpStatusCode.OK);
        // Mark works on a waiting task too, and the run ends.
        await Operator.PostJsonAsync($"runs/{runId}/tasks/w3/mark", """{"state":"success"}""").ExpectAsync(HttpStatusCode.OK);
        run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
    }

    [Fact]
    public async Task CancelAndClear_WorkOnWaitingTasks()
    {
        await Admin.PostJsonAsync("dags", """{"name":"parked","tasks":[{"id":"gate","type":"wait","signal":true}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("parked");
        await Viewer.WaitForTaskAsync(runId, "gate", "waiting");
        await Operator.PostJsonAsync($"runs/{runId}/tasks/gate/clear", "{}").ExpectAsync(HttpStatusCode.OK);
        var again = await Viewer.WaitForTaskAsync(runId, "gate", "waiting");
        Assert.Equal(2, again.GetProperty("attempt").GetInt32());
        var cancelled = await Operator.PostAsync($"runs/{runId}/cancel", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("cancelled", cancelled.GetProperty("state").GetString());
        Assert.Equal("cancelled", RunHelpers.State(cancelled, "gate"));
        await Operator.PostJsonAsync($"runs/{runId}/tasks/gate/signal", "{}").ExpectProblemAsync(HttpStatusCode.Conflict);
    }
}
