using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Notifications;

/// <summary>
/// Events from real runs through the outbox and Hangfire to local receivers: rules, payloads,
/// deduplication, retries after a 500, SLA misses, and monitors of external jobs.
/// </summary>
public sealed class DeliveryTests(ServerFixture server) : ServerTest(server)
{
    private const string Secret = "webhook-shared-secret-0123456789";

    private Task ChannelAsync(string name, string type, string settings) => Admin.ChannelAsync(name, type, settings);

    private static JsonElement Json(RecordingListener.Received r) => JsonDocument.Parse(r.Body).RootElement;

    private Task<List<JsonElement>> DeliveriesAsync(string query, int atLeast, Func<JsonElement, bool> done) => Admin.DeliveriesAsync(query, atLeast, done);

    [Fact]
    public async Task FailedRun_NotifiesEachChannelOnce_WithTheFactsAndALink()
    {
        using var slack = new RecordingListener();
        using var hook = new RecordingListener();
        await ChannelAsync("slack", "slack", $$"""{"webhook_url":"{{slack.Url}}/services/x"}""");
        await ChannelAsync("hook", "webhook", $$"""{"url":"{{hook.Url}}/events","secret":"{{Secret}}"}""");
        // 'slack' is named by the DAG and by a global rule: still one message per event.
        await Admin.PutJsonAsync("notifications/rules", """{"rules":[{"on":["failure"],"channel":"slack"}]}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """
            {"name":"nightly","notifications":[{"on":["failure"],"channel":"slack"},{"on":["failure","retry","task_failure","dead_letter"],"channel":"hook"}],
             "tasks":[{"id":"extract"},{"id":"load","type":"shell","command":"echo broken >&2; exit 3","retries":1,"retry_delay":"PT0.5S","depends_on":["extract"]},
                      {"id":"report","depends_on":["load"]}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("nightly");
        Assert.Equal("failed", (await Admin.WaitForRunAsync(runId)).GetProperty("state").GetString());

        var events = (await hook.WaitForAsync(4)).Select(Json).ToList();
        Assert.Equal(["dead_letter", "failure", "retry", "task_failure"], events.Select(e => e.GetProperty("event").GetString()!).Order());
        var retry = events.Single(e => e.GetProperty("event").GetString() == "retry");
        Assert.Equal("load", retry.GetProperty("task_id").GetString());
        Assert.Equal(1, retry.GetProperty("attempt").GetInt32());
        var failure = events.Single(e => e.GetProperty("event").GetString() == "failure");
        Assert.Equal("nightly", failure.GetProperty("dag").GetString());
        Assert.Equal(runId, failure.GetProperty("run_id").GetInt64());
        Assert.Equal("failed", failure.GetProperty("state").GetString());
        Assert.Equal(["load", "report"], failure.GetProperty("failed_tasks").EnumerateArray().Select(t => t.GetString()!).Order());
        Assert.Equal($"{ServerFixture.PublicUrl}/admin/runs/{runId}", failure.GetProperty("link").GetString());

        var message = Json((await slack.WaitForAsync(1)).Single());
        Assert.Contains("failed", message.GetProperty("text").GetString());
        var blocks = message.GetProperty("blocks").GetRawText();
        Assert.Contains("nightly", blocks);
        Assert.Contains("load", blocks);
        Assert.Contains($"/admin/runs/{runId}", blocks);

        var deliveries = await DeliveriesAsync($"run_id={runId}", 5, d => d.GetProperty("status").GetString() == "delivered");
        Assert.Equal(5, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
        await Task.Delay(500);
        Assert.Single(slack.Requests);
        await Viewer.GetAsync("notifications/deliveries").ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task SuccessfulRun_NotifiesOnlyRulesForSuccess()
    {
        using var hook = new RecordingListener();
        await ChannelAsync("hook", "webhook", $$"""{"url":"{{hook.Url}}/events","secret":"{{Secret}}"}""");
        await Admin.PostJsonAsync("dags", """{"name":"fine","notifications":[{"on":["success"],"channel":"hook"}],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"quiet","notifications":[{"on":["failure"],"channel":"hook"}],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var fine = await Admin.TriggerAsync("fine");
        var quiet = await Admin.TriggerAsync("quiet");
        await Admin.WaitForRunAsync(fine);
        await Admin.WaitForRunAsync(quiet);
        var received = Json((await hook.WaitForAsync(1)).Single());
        Assert.Equal("success", received.GetProperty("event").GetString());
        Assert.Equal(fine, received.GetProperty("run_id").GetInt64());
        await Task.Delay(700);
        Assert.Single(hook.Requests);
    }

    [Fact]
    public async Task GlobalRuleAlone_Notifies_AndEventsNoRuleNames_AreNotRecorded()
    {
        using var hook = new RecordingListener();
        await ChannelAsync("hook", "webhook", $$"""{"url":"{{hook.Url}}/events","secret":"{{Secret}}"}""");
        await Admin.PutJsonAsync("notifications/rules", """{"rules":[{"on":["success"],"channel":"hook"}]}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"plain","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"broken","tasks":[{"id":"a","type":"shell","command":"exit 1"}]}""").ExpectAsync(HttpStatusCode.Created);
        var plain = await Admin.TriggerAsync("plain");
        var broken = await Admin.TriggerAsync("broken");
        await Admin.WaitForRunAsync(plain);
        Assert.Equal("failed", (await Admin.WaitForRunAsync(broken)).GetProperty("state").GetString());
        var received = Json((await hook.WaitForAsync(1)).Single());
        Assert.Equal("success", received.GetProperty("event").GetString());
        Assert.Equal(plain, received.GetProperty("run_id").GetInt64());
        // The failed run's failure, task_failure and dead_letter events were named by no rule:
        // nothing was written for the dispatcher to read back.
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from notifications.events where run_id = @r", ("r", broken)));
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(*) from notifications.events where run_id = @r", ("r", plain)));
    }

    [Fact]
    public async Task BrokenReceiver_IsRetried_UntilItAnswers_AndTheRunIsNotHeldUp()
    {
        using var hook = new RecordingListener { Respond = (n, _) => n <= 2 ? (500, "down") : (200, "ok") };
        await ChannelAsync("hook", "webhook", $$"""{"url":"{{hook.Url}}/events","secret":"{{Secret}}"}""");
        await Admin.PostJsonAsync("dags", """{"name":"flaky-receiver","notifications":[{"on":["success"],"channel":"hook"}],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("flaky-receiver");
        Assert.Equal("success", (await Admin.WaitForRunAsync(runId)).GetProperty("state").GetString());

        var requests = await hook.WaitForAsync(3);
        Assert.Equal(3, requests.Select(r => r.Headers["X-Scheduler-Delivery"]).Count());
        Assert.Single(requests.Select(r => r.Headers["X-Scheduler-Delivery"]).Distinct());
        var delivery = (await DeliveriesAsync($"run_id={runId}", 1, d => d.GetProperty("status").GetString() == "delivered")).Single();
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());

        // A receiver that never recovers: after the last attempt the delivery is failed, with the error kept.
        hook.Respond = (_, _) => (503, "maintenance");
        var second = await Admin.TriggerAsync("flaky-receiver", """{"logical_date":"2026-01-01T00:00:00Z"}""");
        await Admin.WaitForRunAsync(second);
        var failed = (await DeliveriesAsync($"run_id={second}", 1, d => d.GetProperty("status").GetString() == "failed")).Single();
        Assert.Equal(3, failed.GetProperty("attempts").GetInt32());
        Assert.Contains("503", failed.GetProperty("last_error").GetString());

        // An operator can send it again once the receiver is back.
        hook.Respond = (_, _) => (200, "ok");
        var id = failed.GetProperty("id").GetInt64();
        await Operator.PostJsonAsync($"notifications/deliveries/{id}/retry", "{}").ExpectAsync(HttpStatusCode.OK);
        await DeliveriesAsync($"run_id={second}", 1, d => d.GetProperty("status").GetString() == "delivered");
    }

    [Fact]
    public async Task UnreadableChannel_AndUnstorableError_CountAsAttempts_UntilTheDeliveryFails()
    {
        // A receiver whose answer quotes what PostgreSQL text refuses (NUL), a channel whose
        // stored secret no longer decrypts, and one whose stored settings are no JSON object:
        // each attempt is counted, and after the configured three the delivery is failed,
        // not handed to a new job every minute.
        using var quoting = new RecordingListener { Respond = (_, _) => (500, "down\0 for maintenance") };
        await ChannelAsync("quoting", "webhook", $$"""{"url":"{{quoting.Url}}/events","secret":"{{Secret}}"}""");
        await ChannelAsync("locked", "webhook", $$"""{"url":"{{quoting.Url}}/locked","secret":"{{Secret}}"}""");
        await ChannelAsync("garbled", "webhook", $$"""{"url":"{{quoting.Url}}/garbled","secret":"{{Secret}}"}""");
        await TestDatabase.ScalarAsync<object>("update notifications.channels set secret = 'CfDJ8-not-a-protected-payload' where name = 'locked'");
        await TestDatabase.ScalarAsync<object>("""update notifications.channels set settings = '"not an object"'::jsonb where name = 'garbled'""");
        await Admin.PostJsonAsync("dags", """
            {"name":"told","notifications":[{"on":["success"],"channel":"quoting"},{"on":["success"],"channel":"locked"},{"on":["success"],"channel":"garbled"}],
             "tasks":[{"id":"a"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("told");
        Assert.Equal("success", (await Admin.WaitForRunAsync(runId)).GetProperty("state").GetString());

        var failed = (await DeliveriesAsync($"run_id={runId}", 3, d => d.GetProperty("status").GetString() == "failed"))
            .ToDictionary(d => d.GetProperty("channel").GetString()!);
        Assert.All(failed.Values, d => Assert.Equal(3, d.GetProperty("attempts").GetInt32()));
        Assert.Contains("answered 500: down\u2400 for maintenance", failed["quoting"].GetProperty("last_error").GetString());
        Assert.Contains("Cryptographic", failed["locked"].GetProperty("last_error").GetString());
        Assert.Contains("InvalidOperationException", failed["garbled"].GetProperty("last_error").GetString());
        Assert.Equal(3, quoting.Requests.Count);
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from notifications.deliveries where status <> 'failed'"));
    }

    [Fact]
    public async Task SlaMiss_IsReportedOnce_WhileTheRunIsStillRunning()
    {
        using var hook = new RecordingListener();
        await ChannelAsync("hook", "webhook", $$"""{"url":"{{hook.Url}}/events","secret":"{{Secret}}"}""");
        await Admin.PostJsonAsync("dags", """{"name":"slow","sla":"PT1S","notifications":[{"on":["sla_miss"],"channel":"hook"}],"tasks":[{"id":"wait","type":"shell","command":"sleep 3"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("slow");
        var miss = Json((await hook.WaitForAsync(1, timeout: TimeSpan.FromSeconds(10))).Single());
        Assert.Equal("sla_miss", miss.GetProperty("event").GetString());
        Assert.Equal(runId, miss.GetProperty("run_id").GetInt64());
        Assert.Equal("running", miss.GetProperty("state").GetString());
        await Admin.WaitForRunAsync(runId);
        Assert.Single(hook.Requests);
    }

    [Fact]
    public async Task Rules_NameChannelsThatExist()
    {
        var problem = await Admin.PutJsonAsync("notifications/rules", """{"rules":[{"on":["failure"],"channel":"nowhere"},{"on":["explode"],"channel":"x"}]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("rules[1].on[0]"));
        problem = await Admin.PutJsonAsync("notifications/rules", """{"rules":[{"on":["failure"],"channel":"nowhere"}]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("rules[0].channel"));
        await Operator.PutJsonAsync("notifications/rules", """{"rules":[]}""").ExpectProblemAsync(HttpStatusCode.Forbidden);
        problem = await Admin.PostJsonAsync("dags", """{"name":"d","notifications":[{"on":["sometimes"],"channel":"x"}],"tasks":[{"id":"a"}]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("notifications[0].on[0]"));
    }

    [Fact]
    public async Task Monitor_LateThenRecovered_AndFailedPings_AlertItsChannels()
    {
        using var hook = new RecordingListener();
        await ChannelAsync("hook", "webhook", $$"""{"url":"{{hook.Url}}/events","secret":"{{Secret}}"}""");
        var created = await Admin.PostJsonAsync("monitors", """{"name":"backup","interval":"PT2S","grace":"PT0S","channels":["hook"]}""").ExpectAsync(HttpStatusCode.Created);
        var token = created.GetProperty("token").GetString()!;
        Assert.Equal("new", created.GetProperty("monitor").GetProperty("state").GetString());

        // No ping within 2 s: late, one alert.
        var late = Json((await hook.WaitForAsync(1, timeout: TimeSpan.FromSeconds(10))).Single());
        Assert.Equal("monitor_late", late.GetProperty("event").GetString());
        Assert.Equal("backup", late.GetProperty("monitor").GetString());
        Assert.Equal("late", (await Viewer.GetAsync("monitors/backup").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
        // A longer interval from here on, so the next check-in is not due during the test.
        await Admin.PutJsonAsync("monitors/backup", """{"interval":"PT1H","grace":"PT0S","channels":["hook"]}""").ExpectAsync(HttpStatusCode.OK);

        // The job reports in: recovered.
        var ping = new HttpRequestMessage(HttpMethod.Post, $"{Server.BaseAddress}api/v1/monitors/backup/ping")
        {
            Content = new StringContent("""{"status":"success","duration_seconds":1.5,"message":"42 files"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        ping.Headers.Add("X-Monitor-Token", token);
        var pinged = await Anonymous.SendAsync(ping).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("up", pinged.GetProperty("state").GetString());
        var recovered = Json((await hook.WaitForAsync(2)).Last());
        Assert.Equal("monitor_recovered", recovered.GetProperty("event").GetString());

        // A failure ping (token in the query) alerts at once.
        await Anonymous.PostAsync($"api/v1/monitors/backup/ping?status=fail&token={token}", null).ExpectAsync(HttpStatusCode.OK);
        var failed = Json((await hook.WaitForAsync(3)).Last());
        Assert.Equal("monitor_failed", failed.GetProperty("event").GetString());

        var pings = (await Viewer.GetAsync("monitors/backup/pings").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["fail", "success"], pings.Select(p => p.GetProperty("kind").GetString()!));
        Assert.Equal(1500, pings[1].GetProperty("duration_ms").GetInt64());
        Assert.Equal("42 files", pings[1].GetProperty("message").GetString());

        await Anonymous.PostAsync("api/v1/monitors/backup/ping?token=wrong", null).ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Anonymous.PostAsync("api/v1/monitors/backup/ping", null).ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Anonymous.PostAsync($"api/v1/monitors/nope/ping?token={token}", null).ExpectProblemAsync(HttpStatusCode.NotFound);
        await Anonymous.PostAsync($"api/v1/monitors/backup/ping?token={token}&status=done", null).ExpectProblemAsync(HttpStatusCode.BadRequest);

        // Paused: no more late alerts.
        await Operator.PostJsonAsync("monitors/backup/pause", "{}").ExpectAsync(HttpStatusCode.OK);
        var before = hook.Requests.Count;
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(before, hook.Requests.Count);
        Assert.Equal("paused", (await Viewer.GetAsync("monitors/backup").ExpectAsync(HttpStatusCode.OK)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Monitor_Validation()
    {
        var problem = await Admin.PostJsonAsync("monitors", """{"name":"m","cron":"0 3 * * *","interval":"PT1H","channels":["missing"]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("cron"));
        problem = await Admin.PostJsonAsync("monitors", """{"name":"m","cron":"0 25 * * *","timezone":"Europe/Berlin"}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("cron"));
        problem = await Admin.PostJsonAsync("monitors", """{"name":"m","cron":"0 3 * * *","channels":["missing"]}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("channels[0]"));
        var created = await Admin.PostJsonAsync("monitors", """{"name":"m","cron":"30 2 * * *","timezone":"Europe/Berlin","grace":"PT10M"}""").ExpectAsync(HttpStatusCode.Created);
        var expected = DateTimeOffset.Parse(created.GetProperty("monitor").GetProperty("expected_at").GetString()!);
        var berlin = TimeZoneInfo.ConvertTime(expected, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        Assert.Equal((2, 30), (berlin.Hour, berlin.Minute));
        await Operator.PostJsonAsync("monitors", """{"name":"n","interval":"PT1H"}""").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Admin.PostJsonAsync("monitors", """{"name":"m","interval":"PT1H"}""").ExpectProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Digest_ListsMonitorsAndDags_OnItsCron()
    {
        using var hook = new RecordingListener();
        await Admin.PostJsonAsync("dags", """{"name":"daily-report","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.WaitForRunAsync(await Admin.TriggerAsync("daily-report"));
        await Admin.PostJsonAsync("monitors", """{"name":"backup","interval":"PT1H"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("channels", $$"""{"name":"digest","type":"webhook","settings":{"url":"{{hook.Url}}/digest","secret":"{{Secret}}"},"digest":{"cron":"* * * * * *"} }""").ExpectAsync(HttpStatusCode.Created);
        var digest = Json((await hook.WaitForAsync(1, timeout: TimeSpan.FromSeconds(10)))[0]);
        Assert.Equal("digest", digest.GetProperty("event").GetString());
        Assert.Contains(digest.GetProperty("dags").EnumerateArray(), d => d.GetProperty("name").GetString() == "daily-report" && d.GetProperty("state").GetString() == "success");
        Assert.Contains(digest.GetProperty("monitors").EnumerateArray(), m => m.GetProperty("name").GetString() == "backup");
    }

    [Fact]
    public async Task SlackDigest_WithABotToken_IsOneMessageUpdatedInPlace()
    {
        using var slack = new RecordingListener { Respond = (_, path) => (200, path.EndsWith("chat.postMessage") ? """{"ok":true,"ts":"1700000000.000100"}""" : """{"ok":true}""") };
        await Admin.PostJsonAsync("channels", $$"""
            {"name":"status","type":"slack","settings":{"bot_token":"xoxb-test","slack_channel":"C123","api_url":"{{slack.Url}}/api"},"digest":{"cron":"* * * * * *"} }
            """).ExpectAsync(HttpStatusCode.Created);
        var requests = await slack.WaitForAsync(3, timeout: TimeSpan.FromSeconds(15));
        Assert.Equal("/api/chat.postMessage", requests[0].Path);
        Assert.All(requests.Skip(1), r => Assert.Equal("/api/chat.update", r.Path));
        Assert.Equal("1700000000.000100", Json(requests[1]).GetProperty("ts").GetString());
        Assert.Equal("C123", Json(requests[1]).GetProperty("channel").GetString());
        Assert.Equal("Bearer xoxb-test", requests[0].Headers["Authorization"]);
    }
}
