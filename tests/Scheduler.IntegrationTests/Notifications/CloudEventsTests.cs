using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Notifications;

/// <summary>Webhook channels with <c>format: cloudevents</c>: CloudEvents 1.0 structured JSON from a real failed run to a loopback receiver.</summary>
public sealed class CloudEventsTests(ServerFixture server) : ServerTest(server)
{
    private const string Secret = "webhook-shared-secret-0123456789";

    [Fact]
    public async Task FailedRun_ReachesTheReceiver_AsASignedStructuredCloudEvent()
    {
        using var hook = new RecordingListener();
        await Admin.ChannelAsync("ce", "webhook", $$"""{"url":"{{hook.Url}}/ce","secret":"{{Secret}}","format":"cloudevents"}""");
        await Admin.PostJsonAsync("dags", """{"name":"ce-broken","notifications":[{"on":["failure"],"channel":"ce"}],"tasks":[{"id":"a","type":"shell","command":"exit 1"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Operator.TriggerAsync("ce-broken");
        Assert.Equal("failed", (await Operator.WaitForRunAsync(run)).GetProperty("state").GetString());

        var request = (await hook.WaitForAsync(1)).Single();
        Assert.StartsWith("application/cloudevents+json", request.Headers["Content-Type"]);
        var e = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("1.0", e.GetProperty("specversion").GetString());
        Assert.Equal("dev.scheduler.run.failed", e.GetProperty("type").GetString());
        Assert.Equal(ServerFixture.PublicUrl, e.GetProperty("source").GetString());
        Assert.Equal($"dags/ce-broken/runs/{run}", e.GetProperty("subject").GetString());
        Assert.Equal("application/json", e.GetProperty("datacontenttype").GetString());
        Assert.False(string.IsNullOrEmpty(e.GetProperty("id").GetString()));
        Assert.InRange(DateTimeOffset.Parse(e.GetProperty("time").GetString()!), DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));
        var data = e.GetProperty("data");
        Assert.Equal("failure", data.GetProperty("event").GetString());
        Assert.Equal(run, data.GetProperty("run_id").GetInt64());
        Assert.Equal(e.GetProperty("id").GetString(), data.GetProperty("event_id").ToString());
        // Signed as plain webhooks are: over the timestamp and the raw (CloudEvents) body.
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"{request.Headers["X-Timestamp"]}.{request.Body}")));
        Assert.Equal(expected, request.Headers["X-Signature"]);
    }

    [Fact]
    public async Task Format_IsJsonByDefault_AndAnUnknownFormatIsA400()
    {
        var created = await Admin.PostJsonAsync("channels", """{"name":"plain","type":"webhook","settings":{"url":"http://127.0.0.1:9/in","secret":"0123456789abcdefX"} }""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("json", created.GetProperty("settings").GetProperty("format").GetString());
        var problem = await Admin.PostJsonAsync("channels", """{"name":"odd","type":"webhook","settings":{"url":"http://127.0.0.1:9/in","secret":"0123456789abcdefX","format":"xml"} }""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("settings.format", out _));
    }
}
