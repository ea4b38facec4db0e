using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Notifications;

/// <summary>Channels through the API, and a test message through each channel type to a real receiver.</summary>
public sealed class ChannelTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Channel_SecretsAreWriteOnly_AndEncryptedAtRest()
    {
        const string hook = "https://hooks.slack.example/services/T000/B000/very-secret-path";
        var created = await Admin.PostJsonAsync("channels", $$"""{"name":"ops","type":"slack","settings":{"webhook_url":"{{hook}}"} }""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("slack", created.GetProperty("type").GetString());
        Assert.Equal(["webhook_url"], created.GetProperty("secrets_set").EnumerateArray().Select(s => s.GetString()!));
        Assert.DoesNotContain("very-secret-path", created.GetRawText());
        var read = await Admin.GetAsync("channels/ops").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("very-secret-path", read.GetRawText());
        var stored = await TestDatabase.ScalarAsync<string>("select settings::text || coalesce(secret, '') from notifications.channels where name = 'ops'");
        Assert.DoesNotContain("very-secret-path", stored);

        // A replace that leaves the secret out keeps it; a new api_url setting shows.
        var replaced = await Admin.PutJsonAsync("channels/ops", """{"type":"slack","settings":{"api_url":"https://slack.example/api"} }""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["webhook_url"], replaced.GetProperty("secrets_set").EnumerateArray().Select(s => s.GetString()!));
        Assert.Equal("https://slack.example/api", replaced.GetProperty("settings").GetProperty("api_url").GetString());

        await Admin.PostJsonAsync("channels", $$"""{"name":"ops","type":"slack","settings":{"webhook_url":"{{hook}}"} }""").ExpectProblemAsync(HttpStatusCode.Conflict);
        await Operator.GetAsync("channels").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Admin.DeleteAsync("channels/ops").ExpectAsync(HttpStatusCode.NoContent);
        await Admin.GetAsync("channels/ops").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Channel_BadSettings_AreNamedByPath()
    {
        var problem = await Admin.PostJsonAsync("channels", """{"name":"mail","type":"email","settings":{"port":70000,"to":["not-an-address"],"colour":"red"} }""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("settings.host"));
        Assert.NotEmpty(problem.Errors("settings.from"));
        Assert.NotEmpty(problem.Errors("settings.port"));
        Assert.NotEmpty(problem.Errors("settings.to"));
        Assert.NotEmpty(problem.Errors("settings.colour"));
        problem = await Admin.PostJsonAsync("channels", """{"name":"x","type":"pager","settings":{}}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("type"));
        problem = await Admin.PostJsonAsync("channels", """{"name":"w","type":"webhook","settings":{"url":"ftp://x","secret":"short"},"digest":{"cron":"61 * * * *","timezone":"Mars/Base"} }""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("settings.url"));
        Assert.NotEmpty(problem.Errors("digest.timezone"));
        problem = await Admin.PostJsonAsync("channels", """{"name":"w","type":"webhook","settings":{"url":"http://127.0.0.1:1/","secret":"0123456789abcdefX"},"digest":{"cron":"61 * * * *"} }""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("digest.cron"));
    }

    [Fact]
    public async Task TestSend_Slack_IsBlockKit()
    {
        using var slack = new RecordingListener();
        await Admin.PostJsonAsync("channels", $$"""{"name":"s","type":"slack","settings":{"webhook_url":"{{slack.Url}}/services/T1/B1/x"} }""").ExpectAsync(HttpStatusCode.Created);
        var result = await Admin.PostJsonAsync("channels/s/test", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.True(result.GetProperty("delivered").GetBoolean());
        var body = JsonDocument.Parse((await slack.WaitForAsync(1))[0].Body).RootElement;
        Assert.Contains("Test message", body.GetProperty("text").GetString());
        var blocks = body.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal("header", blocks[0].GetProperty("type").GetString());
        Assert.Contains(blocks, b => b.GetProperty("type").GetString() == "section" && b.TryGetProperty("fields", out _));
    }

    [Fact]
    public async Task TestSend_Failure_IsReported_NotThrown()
    {
        using var broken = new RecordingListener { Respond = (_, _) => (500, "boom") };
        await Admin.PostJsonAsync("channels", $$"""{"name":"t","type":"teams","settings":{"webhook_url":"{{broken.Url}}/hook"} }""").ExpectAsync(HttpStatusCode.Created);
        var result = await Admin.PostJsonAsync("channels/t/test", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.False(result.GetProperty("delivered").GetBoolean());
        Assert.Contains("500", result.GetProperty("error").GetString());
        var card = JsonDocument.Parse((await broken.WaitForAsync(1))[0].Body).RootElement;
        Assert.Equal("message", card.GetProperty("type").GetString());
        var attachment = card.GetProperty("attachments")[0];
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment.GetProperty("contentType").GetString());
        Assert.Equal("AdaptiveCard", attachment.GetProperty("content").GetProperty("type").GetString());
        Assert.Contains(attachment.GetProperty("content").GetProperty("body").EnumerateArray(), b => b.GetProperty("type").GetString() == "FactSet");
    }

    [Fact]
    public async Task TestSend_Webhook_IsSignedOverTimestampAndBody()
    {
        using var receiver = new RecordingListener();
        const string secret = "webhook-shared-secret-0123456789";
        await Admin.PostJsonAsync("channels", $$"""{"name":"hook","type":"webhook","settings":{"url":"{{receiver.Url}}/in","secret":"{{secret}}"} }""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("channels/hook/test", "{}").ExpectAsync(HttpStatusCode.OK);
        var request = (await receiver.WaitForAsync(1))[0];
        var timestamp = request.Headers["X-Timestamp"];
        Assert.InRange(long.Parse(timestamp), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{request.Body}")));
        Assert.Equal(expected, request.Headers["X-Signature"]);
        Assert.Equal("test", JsonDocument.Parse(request.Body).RootElement.GetProperty("event").GetString());
    }

    [Fact]
    public async Task TestSend_Sms_UsesTheTwilioShape()
    {
        using var api = new RecordingListener { Respond = (_, _) => (201, """{"sid":"SM1"}""") };
        await Admin.PostJsonAsync("channels", $$"""
            {"name":"pager","type":"sms","settings":{"base_url":"{{api.Url}}","account_sid":"AC123","auth_token":"tok","from":"+15550001","to":["+15550002","+15550003"]} }
            """).ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("channels/pager/test", "{}").ExpectAsync(HttpStatusCode.OK);
        var requests = await api.WaitForAsync(2);
        Assert.All(requests, r =>
        {
            Assert.Equal("/2010-04-01/Accounts/AC123/Messages.json", r.Path);
            Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("AC123:tok")), r.Headers["Authorization"]);
            Assert.Contains("From=%2B15550001", r.Body);
            Assert.Contains("Body=", r.Body);
        });
        Assert.Contains(requests, r => r.Body.Contains("To=%2B15550002"));
        Assert.Contains(requests, r => r.Body.Contains("To=%2B15550003"));
    }

    [Fact]
    public async Task TestSend_Email_ReachesARealSmtpServer_WithHtmlAndText()
    {
        await using var smtp = await SmtpSink.StartAsync();
        await Admin.PostJsonAsync("channels", $$"""
            {"name":"mail","type":"email","settings":{"host":"127.0.0.1","port":{{smtp.Port}},"tls":"none","from":"scheduler@example.test","to":["ops@example.test","oncall@example.test"]} }
            """).ExpectAsync(HttpStatusCode.Created);
        var result = await Admin.PostJsonAsync("channels/mail/test", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.True(result.GetProperty("delivered").GetBoolean(), result.GetRawText());
        var mail = (await smtp.WaitForMessagesAsync(1)).Single();
        Assert.StartsWith("[Scheduler] Test message", mail.Subject);
        Assert.Equal(["ops@example.test", "oncall@example.test"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Contains("Test message", mail.TextBody);
        Assert.Contains("<h2>", mail.HtmlBody);
    }
}
