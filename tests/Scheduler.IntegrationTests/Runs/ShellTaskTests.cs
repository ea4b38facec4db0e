using System.Diagnostics;
using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>Shell tasks run as real child processes by the server's worker.</summary>
public sealed class ShellTaskTests(ServerFixture server) : ServerTest(server)
{
    private async Task<System.Text.Json.JsonElement> RunDagAsync(string json, string name, TimeSpan? timeout = null)
    {
        await Admin.PostJsonAsync("dags", json).ExpectAsync(HttpStatusCode.Created);
        return await Viewer.WaitForRunAsync(await Operator.TriggerAsync(name), timeout);
    }

    private async Task<string> LogAsync(long runId, string task, int? attempt = null)
    {
        using var response = await Viewer.GetAsync($"runs/{runId}/tasks/{task}/logs{(attempt is null ? "" : $"?attempt={attempt}")}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Shell_GetsSchedulerEnvironment_AndNotServerSecrets()
    {
        var run = await RunDagAsync("""
            {"name":"env","tasks":[{"id":"show","type":"shell","env":{"GREETING":"hello"},
             "command":"echo key=$SCHEDULER_IDEMPOTENCY_KEY; echo run=$SCHEDULER_RUN_ID task=$SCHEDULER_TASK_ID attempt=$SCHEDULER_ATTEMPT date=$SCHEDULER_LOGICAL_DATE; echo greeting=$GREETING; echo secret=${ConnectionStrings__Scheduler:-withheld}; echo oops >&2"}]}
            """, "env");
        var runId = run.GetProperty("run_id").GetInt64();
        Assert.Equal("success", run.GetProperty("state").GetString());
        var log = await LogAsync(runId, "show");
        Assert.Contains($"key={runId}:show:1", log);
        Assert.Contains($"run={runId} task=show attempt=1 date={run.GetProperty("logical_date").GetString()![..19]}Z", log);
        Assert.Contains("greeting=hello", log);
        Assert.Contains("secret=withheld", log);
        Assert.Contains("oops", log);
    }

    [Fact]
    public async Task Shell_RetriesThenDeadLetters_WhenItKeepsFailing()
    {
        var run = await RunDagAsync("""{"name":"flaky","tasks":[{"id":"f","type":"shell","command":"echo attempt $SCHEDULER_ATTEMPT; exit 3","retries":2,"retry_delay":0.2}]}""", "flaky");
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var task = RunHelpers.Task(run, "f");
        Assert.Equal("failed", task.GetProperty("state").GetString());
        var attempts = task.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.All(attempts, a => Assert.Equal(3, a.GetProperty("code").GetInt32()));
        Assert.Contains("attempt 2", await LogAsync(run.GetProperty("run_id").GetInt64(), "f", 2));
        var letters = await Viewer.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK);
        var letter = letters.GetProperty("items").EnumerateArray().Single();
        Assert.Equal("f", letter.GetProperty("task_id").GetString());
        Assert.Equal(3, letter.GetProperty("attempts").GetInt32());
        Assert.Equal("exit code 3", letter.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Retry_WaitsTheBackoff_AndNeverMoreThanTheCap()
    {
        var run = await RunDagAsync("""{"name":"backoff","tasks":[{"id":"f","type":"shell","command":"exit 1","retries":3,"retry_delay":1,"retry_backoff":"exponential","max_retry_delay":1.5}]}""", "backoff", TimeSpan.FromSeconds(30));
        var attempts = RunHelpers.Task(run, "f").GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(4, attempts.Count);
        for (var i = 1; i < attempts.Count; i++)
        {
            var gap = RunHelpers.Time(attempts[i], "started_at") - RunHelpers.Time(attempts[i - 1], "finished_at");
            // Equal jitter: at least half the (capped) delay; at most the cap plus the
            // maintenance tick (0.5 s in tests) plus claim latency.
            Assert.InRange(gap.TotalSeconds, 0.45, 1.5 + 1.6);
        }
    }

    [Fact]
    public async Task Shell_ExitCode99_MeansSkipped_AndSkipPropagates()
    {
        var run = await RunDagAsync("""{"name":"skip","tasks":[{"id":"s","type":"shell","command":"exit 99"},{"id":"next","depends_on":["s"]},{"id":"custom","type":"shell","command":"exit 7","skip_exit_code":7}]}""", "skip");
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal("skipped", RunHelpers.State(run, "s"));
        Assert.Equal("skipped", RunHelpers.State(run, "next"));
        Assert.Equal("skipped", RunHelpers.State(run, "custom"));
    }

    [Fact]
    public async Task Timeout_KillsTheWholeProcessTree()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"tree-{Guid.NewGuid():N}");
        var run = await RunDagAsync($$"""{"name":"tree","tasks":[{"id":"t","type":"shell","timeout":1,"command":"sleep 300 & echo $! > {{marker}}; sleep 300"}]}""", "tree");
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var attempt = RunHelpers.Task(run, "t").GetProperty("attempts")[0];
        Assert.Equal("timed_out", attempt.GetProperty("state").GetString());
        var duration = RunHelpers.Time(attempt, "finished_at") - RunHelpers.Time(attempt, "started_at");
        Assert.InRange(duration.TotalSeconds, 0.9, 6);
        var child = int.Parse(File.ReadAllText(marker).Trim());
        await AssertGoneAsync(child);
        File.Delete(marker);
    }

    [Fact]
    public async Task Timeout_FailsTheAttempt_AndTheTaskRetries()
    {
        var run = await RunDagAsync("""{"name":"slowretry","tasks":[{"id":"t","type":"shell","command":"sleep 30","timeout":1,"retries":1,"retry_delay":0}]}""", "slowretry");
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var attempts = RunHelpers.Task(run, "t").GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("timed_out", a.GetProperty("state").GetString()));
    }

    private static async Task AssertGoneAsync(int pid)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(8))
        {
            if (!Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] == "Z")
                return;
            await Task.Delay(100);
        }
        Assert.Fail($"process {pid} from the task's tree is still alive");
    }

    [Fact]
    public async Task Cancel_StopsRunningProcess_AndCancelsTheRest()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"cancel-{Guid.NewGuid():N}");
        await Admin.PostJsonAsync("dags", $$"""{"name":"long","tasks":[{"id":"sleep","type":"shell","command":"echo $$ > {{marker}}; sleep 300"},{"id":"after","depends_on":["sleep"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("long");
        await Viewer.WaitForTaskAsync(runId, "sleep", "running");
        while (!File.Exists(marker) || File.ReadAllText(marker).Trim().Length == 0)
            await Task.Delay(50);
        var run = await Operator.PostAsync($"runs/{runId}/cancel", null).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("cancelled", run.GetProperty("state").GetString());
        Assert.Equal("cancelled", RunHelpers.State(run, "sleep"));
        Assert.Equal("cancelled", RunHelpers.State(run, "after"));
        await AssertGoneAsync(int.Parse(File.ReadAllText(marker).Trim()));
        await Operator.PostAsync($"runs/{runId}/cancel", null).ExpectProblemAsync(HttpStatusCode.Conflict);
        File.Delete(marker);
    }

    [Fact]
    public async Task Log_ShowsOutputSoFar_WhileTaskRuns()
    {
        await Admin.PostJsonAsync("dags", """{"name":"live","tasks":[{"id":"t","type":"shell","command":"echo first line; sleep 4; echo second line"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("live");
        await Viewer.WaitForTaskAsync(runId, "t", "running");
        var clock = Stopwatch.StartNew();
        string log;
        do
        {
            await Task.Delay(200);
            log = await LogAsync(runId, "t");
        } while (!log.Contains("first line") && clock.Elapsed < TimeSpan.FromSeconds(3.5));
        Assert.Contains("first line", log);
        Assert.DoesNotContain("second line", log);
        Assert.Equal("running", RunHelpers.State(await Viewer.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK), "t"));
        await Viewer.WaitForRunAsync(runId);
        Assert.Contains("second line", await LogAsync(runId, "t"));
    }

    [Fact]
    public async Task DeadLetterRequeue_StartsAFreshAttempt_AndRunRecovers()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"fixed-{Guid.NewGuid():N}");
        var run = await RunDagAsync($$"""{"name":"dl","tasks":[{"id":"t","type":"shell","command":"test -f {{marker}}"},{"id":"down","depends_on":["t"]}]}""", "dl");
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal("upstream_failed", RunHelpers.State(run, "down"));
        var letter = (await Viewer.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0];
        File.WriteAllText(marker, "fixed");
        var id = letter.GetProperty("id").GetInt64();
        await Viewer.PostAsync($"dead-letters/{id}/requeue", null).ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Operator.PostAsync($"dead-letters/{id}/requeue", null).ExpectAsync(HttpStatusCode.OK);
        run = await Viewer.WaitForRunAsync(run.GetProperty("run_id").GetInt64());
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(2, RunHelpers.Task(run, "t").GetProperty("attempt").GetInt32());
        Assert.Equal("success", RunHelpers.State(run, "down"));
        await Operator.PostAsync($"dead-letters/{id}/requeue", null).ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Empty((await Viewer.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        File.Delete(marker);
    }
}
