using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Security;

/// <summary>Credentials in URIs never reach an http task's log or a delivery's last_error.</summary>
public sealed class SecretMaskingTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task HttpTaskLog_MasksUserInfoAndSecretQueryParameters()
    {
        using var api = new RecordingListener { Respond = (_, _) => (500, "retry later at http://bot:b0tpass@127.0.0.1/data?access_token=T0KEN-IN-ANSWER") };
        var uri = $"http://alice:pa55word@127.0.0.1:{api.Port}/data?api_key=K3Y-IN-URI&page=1";
        await Admin.PostJsonAsync("dags", $$"""{"name":"masked","tasks":[{"id":"get","type":"http","uri":"{{uri}}"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("masked"));
        Assert.Equal("failed", RunHelpers.State(run, "get"));
        await api.WaitForAsync(1, r => r.Path == "/data");

        using var log = await Viewer.GetAsync($"runs/{run.GetProperty("run_id").GetInt64()}/tasks/get/logs");
        var text = await log.Content.ReadAsStringAsync();
        Assert.Contains($"GET http://***:***@127.0.0.1:{api.Port}/data?api_key=***&page=1", text);
        Assert.Contains("access_token=***", text);
        foreach (var secret in new[] { "pa55word", "K3Y-IN-URI", "b0tpass", "T0KEN-IN-ANSWER" })
        {
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain(secret, run.GetRawText());
        }
    }

    [Fact]
    public async Task DeliveryLastError_MasksUserInfoAndSecretQueryParameters()
    {
        using var hook = new RecordingListener { Respond = (_, _) => (500, "denied for https://x.example/cb?sig=S1GNATURE&secret=ECHOED") };
        await Admin.ChannelAsync("hook", "webhook", $$"""{"url":"http://ops:h00kpass@127.0.0.1:{{hook.Port}}/events?token=URL-T0KEN","secret":"webhook-shared-secret-0123456789"}""");
        await Admin.PostJsonAsync("dags", """{"name":"notify-masked","notifications":[{"on":["success"],"channel":"hook"}],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("notify-masked");
        await Admin.WaitForRunAsync(runId);

        var failed = (await Admin.DeliveriesAsync($"run_id={runId}", 1, d => d.GetProperty("status").GetString() == "failed")).Single();
        var error = failed.GetProperty("last_error").GetString()!;
        Assert.Contains("answered 500", error);
        Assert.Contains("sig=***&secret=***", error);
        foreach (var secret in new[] { "h00kpass", "URL-T0KEN", "S1GNATURE", "ECHOED" })
            Assert.DoesNotContain(secret, error);
        var stored = await TestDatabase.ScalarAsync<string>("select string_agg(coalesce(last_error, ''), ' ') from notifications.deliveries");
        Assert.DoesNotContain("S1GNATURE", stored);
    }
}
