using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>
/// Two real server processes (clustered, each with a worker) on a database of their own. The
/// one that runs a task is killed with SIGKILL; the other must finish the task (at least
/// once, same attempt number) and keep scheduling.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ReplicaFailureTests : IAsyncLifetime
{
    private const string Key = "sk_replica_test_admin_key_0123456789";
    private readonly ServerProcesses _servers = new();
    private string _connection = "";

    public async Task InitializeAsync() => _connection = await TestDatabase.CreateFreshAsync("replicas");

    public Task DisposeAsync()
    {
        _servers.Dispose();
        return Task.CompletedTask;
    }

    private Task<(Process Process, HttpClient Client)> StartAsync(Dictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>
        {
            ["Workers__Slots"] = "4",
            ["Workers__LeaseSeconds"] = "3",
            ["Workers__HeartbeatSeconds"] = "1",
            ["Workers__PollSeconds"] = "0.5",
            ["Scheduler__CheckinSeconds"] = "1",
            ["Scheduler__CheckinMisfireSeconds"] = "4",
        };
        foreach (var (key, value) in settings ?? [])
            all[key] = value;
        return _servers.StartAsync(_connection, Key, all);
    }

    [Fact]
    public async Task KilledReplica_ItsTaskIsFinishedByTheOther_UnderTheSameAttempt()
    {
        var a = await StartAsync();
        var b = await StartAsync();
        await a.Client.PostJsonAsync("dags", """{"name":"victim","tasks":[{"id":"work","type":"shell","command":"echo pid $$ attempt $SCHEDULER_ATTEMPT key $SCHEDULER_IDEMPOTENCY_KEY; sleep 2; echo finished"}]}""").ExpectAsync(HttpStatusCode.Created);
        await a.Client.PostJsonAsync("dags", """{"name":"ticker","cron":"* * * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await a.Client.TriggerAsync("victim");
        var task = await a.Client.WaitForTaskAsync(runId, "work", "running");
        var worker = task.GetProperty("worker_id").GetString()!;
        var victim = worker.Contains($":{a.Process.Id}:") ? a : b;
        var survivor = victim == a ? b : a;
        Assert.Contains($":{victim.Process.Id}:", worker);

        victim.Process.Kill(); // SIGKILL: no shutdown hook, no hand-back; only the lease can save the task.
        await victim.Process.WaitForExitAsync();
        var killedAt = DateTimeOffset.UtcNow;

        var run = await survivor.Client.WaitForRunAsync(runId, TimeSpan.FromSeconds(30));
        Assert.Equal("success", run.GetProperty("state").GetString());
        var done = RunHelpers.Task(run, "work");
        Assert.Equal(1, done.GetProperty("attempt").GetInt32());
        var attempt = done.GetProperty("attempts").EnumerateArray().Single();
        Assert.Equal(2, attempt.GetProperty("deliveries").GetInt32());
        Assert.Contains($":{survivor.Process.Id}:", attempt.GetProperty("worker_id").GetString());
        // Lease (3 s) + the reaper's tick (1 s) + the task itself (2 s) + slack.
        Assert.True(RunHelpers.Time(done, "finished_at") - killedAt < TimeSpan.FromSeconds(15));
        using var log = await survivor.Client.GetAsync($"runs/{runId}/tasks/work/logs");
        var text = await log.Content.ReadAsStringAsync();
        Assert.Contains($"key {runId}:work:1", text);
        Assert.Contains("delivered again", text);
        Assert.Contains("finished", text);

        // The scheduler failed over too: per-second runs keep coming, never two for one second.
        await Task.Delay(TimeSpan.FromSeconds(6));
        var runs = (await survivor.Client.GetAsync("dags/ticker/runs?limit=500").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray()
            .Select(r => DateTimeOffset.Parse(r.GetProperty("logical_date").GetString()!)).ToList();
        Assert.Equal(runs.Count, runs.Distinct().Count());
        Assert.Contains(runs, d => d > killedAt.AddSeconds(2));
        var workers = await survivor.Client.GetAsync("workers").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(workers.EnumerateArray(), w => w.GetProperty("pid").GetInt32() == survivor.Process.Id && w.GetProperty("alive").GetBoolean());
    }

    [Fact]
    public async Task StoppedReplica_HandsItsTaskBack_WithoutWaitingForTheLease()
    {
        // A 60 s lease: only the graceful hand-back can explain the task finishing quickly elsewhere.
        var settings = new Dictionary<string, string> { ["Workers__LeaseSeconds"] = "60", ["Workers__ShutdownTimeoutSeconds"] = "1" };
        var a = await StartAsync(settings);
        var b = await StartAsync(settings);
        await a.Client.PostJsonAsync("dags", """{"name":"handback","tasks":[{"id":"work","type":"shell","command":"sleep 3; echo finished attempt $SCHEDULER_ATTEMPT"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await a.Client.TriggerAsync("handback");
        var worker = (await a.Client.WaitForTaskAsync(runId, "work", "running")).GetProperty("worker_id").GetString()!;
        var leaving = worker.Contains($":{a.Process.Id}:") ? a : b;
        var staying = leaving == a ? b : a;
        var stoppedAt = DateTimeOffset.UtcNow;
        using (var term = Process.Start("kill", ["-TERM", leaving.Process.Id.ToString()])!)
            await term.WaitForExitAsync();
        await leaving.Process.WaitForExitAsync();

        var run = await staying.Client.WaitForRunAsync(runId, TimeSpan.FromSeconds(30));
        Assert.Equal("success", run.GetProperty("state").GetString());
        var task = RunHelpers.Task(run, "work");
        Assert.Equal(1, task.GetProperty("attempt").GetInt32());
        Assert.Equal(2, task.GetProperty("attempts")[0].GetProperty("deliveries").GetInt32());
        Assert.True(RunHelpers.Time(task, "finished_at") - stoppedAt < TimeSpan.FromSeconds(20), "the task waited for the lease instead of being handed back");
        using var log = await staying.Client.GetAsync($"runs/{runId}/tasks/work/logs");
        Assert.Contains("interrupted: the worker shut down", await log.Content.ReadAsStringAsync());
    }
    [Fact]
    public async Task PendingNotificationDelivery_SurvivesAServerKill()
    {
        // The receiver is down while the first server tries; that server is killed with the
        // delivery still pending (its retry scheduled in Hangfire); a new server delivers it.
        using var hook = new RecordingListener { Respond = (_, _) => (500, "down") };
        var settings = new Dictionary<string, string> { ["Notifications__RetryDelays__0"] = "00:00:03", ["Notifications__RetryDelays__1"] = "00:00:03", ["Notifications__OrphanAfter"] = "00:00:05" };
        var a = await StartAsync(settings);
        await a.Client.PostJsonAsync("channels", $$"""{"name":"hook","type":"webhook","settings":{"url":"{{hook.Url}}/in","secret":"webhook-shared-secret-0123456789"} }""").ExpectAsync(HttpStatusCode.Created);
        await a.Client.PostJsonAsync("dags", """{"name":"told","notifications":[{"on":["success"],"channel":"hook"}],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await a.Client.TriggerAsync("told");
        await a.Client.WaitForRunAsync(runId);
        await hook.WaitForAsync(1);
        a.Process.Kill();
        await a.Process.WaitForExitAsync();
        hook.Respond = (_, _) => (200, "ok");

        var b = await StartAsync(settings);
        var deadline = DateTime.UtcNow.AddSeconds(40);
        JsonElement delivery;
        do
        {
            await Task.Delay(250);
            delivery = (await b.Client.GetAsync($"notifications/deliveries?run_id={runId}").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0];
        }
        while (delivery.GetProperty("status").GetString() != "delivered" && DateTime.UtcNow < deadline);
        Assert.Equal("delivered", delivery.GetProperty("status").GetString());
        // The killed server's attempt may not be recorded (it dies inside its transaction), but the
        // receiver saw it: at least two requests, all for the one delivery.
        Assert.True(hook.Requests.Count >= 2);
        Assert.Single(hook.Requests.Where(r => r.Headers.ContainsKey("X-Scheduler-Delivery")).Select(r => r.Headers["X-Scheduler-Delivery"]).Distinct());
    }
}
