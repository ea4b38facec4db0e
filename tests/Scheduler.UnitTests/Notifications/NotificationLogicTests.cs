using System.Text.Json.Nodes;
using Scheduler.Modules.Notifications.Channels;
using Scheduler.Modules.Notifications.Delivery;
using Scheduler.Modules.Notifications.Monitors;

namespace Scheduler.UnitTests.Notifications;

public sealed class NotificationLogicTests
{
    [Fact]
    public void Split_SeparatesSecrets_AndKeepsAStoredSecretWhenLeftOut()
    {
        var (settings, secrets, errors) = ChannelTypes.Split("email",
            JsonNode.Parse("""{"host":"smtp.example.test","password":"pw","from":"a@example.test","to":["b@example.test"]}""")!.AsObject(), null);
        Assert.Empty(errors);
        Assert.Equal("pw", secrets["password"]!.GetValue<string>());
        Assert.Null(settings["password"]);
        Assert.Equal(587, settings["port"]!.GetValue<int>());
        Assert.Equal("auto", settings["tls"]!.GetValue<string>());

        var (_, kept, keptErrors) = ChannelTypes.Split("teams", [], JsonNode.Parse("""{"webhook_url":"https://example.test/hook"}""")!.AsObject());
        Assert.Empty(keptErrors);
        Assert.Equal("https://example.test/hook", kept["webhook_url"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("email", """{"host":"smtp.other.test","from":"a@example.test","to":["b@example.test"]}""", "settings.password")]
    [InlineData("email", """{"host":"SMTP.example.test","from":"a@example.test","to":["b@example.test"]}""", null)]
    [InlineData("sms", """{"base_url":"https://sms.other.test","account_sid":"AC1","from":"+1","to":["+2"]}""", "settings.auth_token")]
    [InlineData("sms", """{"base_url":"http://sms.example.test","account_sid":"AC1","from":"+1","to":["+2"]}""", "settings.auth_token")]
    [InlineData("sms", """{"base_url":"https://sms.example.test:8443","account_sid":"AC1","from":"+1","to":["+2"]}""", "settings.auth_token")]
    [InlineData("sms", """{"base_url":"https://sms.example.test/v2","account_sid":"AC1","from":"+1","to":["+2"]}""", null)]
    [InlineData("sms", """{"account_sid":"AC1","from":"+1","to":["+2"]}""", "settings.auth_token")]
    [InlineData("slack", """{"api_url":"https://slack.other.test/api","slack_channel":"#ops"}""", "settings.bot_token")]
    [InlineData("webhook", """{"url":"https://hooks.other.test/in"}""", "settings.secret")]
    [InlineData("webhook", """{"url":"https://hooks.example.test/elsewhere?x=1"}""", null)]
    public void Split_DropsAKeptSecret_WhenItsDestinationMoves(string type, string json, string? refused)
    {
        var previousSettings = JsonNode.Parse("""
            {"host":"smtp.example.test","base_url":"https://sms.example.test","api_url":"https://slack.example.test/api","url":"https://hooks.example.test/in"}
            """)!.AsObject();
        var previousSecrets = JsonNode.Parse("""{"password":"pw","auth_token":"t0k","bot_token":"xoxb","secret":"0123456789abcdef"}""")!.AsObject();
        var (_, secrets, errors) = ChannelTypes.Split(type, JsonNode.Parse(json)!.AsObject(), previousSecrets, previousSettings);
        if (refused is null)
        {
            Assert.Empty(errors);
            Assert.NotEmpty(secrets);
        }
        else
            Assert.Contains(errors, e => e.PropertyName == refused && e.ErrorMessage.Contains("must be given again"));
    }

    [Fact]
    public void Split_RemovesASecretGivenAsNull_AndKeepsOneGivenAgain_WhenTheHostMoves()
    {
        var previousSettings = JsonNode.Parse("""{"host":"smtp.example.test"}""")!.AsObject();
        var previousSecrets = JsonNode.Parse("""{"password":"old"}""")!.AsObject();
        var (_, removed, errors) = ChannelTypes.Split("email",
            JsonNode.Parse("""{"host":"smtp.other.test","password":null,"from":"a@example.test","to":["b@example.test"]}""")!.AsObject(), previousSecrets, previousSettings);
        Assert.Empty(errors);
        Assert.Null(removed["password"]);
        var (_, given, givenErrors) = ChannelTypes.Split("email",
            JsonNode.Parse("""{"host":"smtp.other.test","password":"new","from":"a@example.test","to":["b@example.test"]}""")!.AsObject(), previousSecrets, previousSettings);
        Assert.Empty(givenErrors);
        Assert.Equal("new", given["password"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("slack", """{}""", "settings.webhook_url")]
    [InlineData("slack", """{"bot_token":"x"}""", "settings.webhook_url")]
    [InlineData("teams", """{"webhook_url":"not a url"}""", "settings.webhook_url")]
    [InlineData("webhook", """{"url":"https://example.test","secret":"short"}""", "settings.secret")]
    [InlineData("sms", """{"account_sid":"AC1","auth_token":"t","from":"+1","to":[]}""", "settings.to")]
    [InlineData("email", """{"host":"h","from":"a@example.test","to":["b@example.test"],"tls":"sometimes"}""", "settings.tls")]
    [InlineData("email", """{"host":"h","from":"a@example.test","to":["b@example.test"],"cc":["c@example.test"]}""", "settings.cc")]
    public void Split_RefusesBadSettings_ByPath(string type, string json, string path)
    {
        var (_, _, errors) = ChannelTypes.Split(type, JsonNode.Parse(json)!.AsObject(), null);
        Assert.Contains(errors, e => e.PropertyName == path);
    }

    [Fact]
    public void Signature_IsHmacSha256OverTimestampDotBody()
    {
        // Reference value computed with Python's hmac module.
        Assert.Equal("sha256=9d322d56c41ad01d7726861c1bb7152729dcc4ff91426870e74a73ddb0a1a61e",
            ChannelSender.Signature("0123456789abcdef-secret", "1700000000", """{"event":"test"}"""));
    }

    private static NotificationMessage Message(int facts, int items) => new(
        "failure", "title", "summary", Severity.Danger,
        Enumerable.Range(0, facts).Select(i => new KeyValuePair<string, string>($"k{i}", $"v{i}")).ToList(),
        Enumerable.Range(0, items).Select(i => $"task{i}").ToList(), "Failed tasks:", "https://x.test/admin/runs/1", []);

    [Fact]
    public void SlackBlocks_KeepSlacksLimits()
    {
        var blocks = ChannelFormats.SlackBlocks(Message(23, 100))["blocks"]!.AsArray();
        var fieldSections = blocks.Where(b => b!["fields"] is not null).ToList();
        Assert.Equal(3, fieldSections.Count);
        Assert.All(fieldSections, s => Assert.True(s!["fields"]!.AsArray().Count <= 10));
        var items = blocks.Single(b => b!["text"]?["text"]?.GetValue<string>().StartsWith("*Failed tasks:*") == true)!;
        Assert.Contains("... and 60 more", items["text"]!["text"]!.GetValue<string>());
        Assert.Equal("actions", blocks.Last()!["type"]!.GetValue<string>());
    }

    [Fact]
    public void SmsText_IsCappedAt1600()
    {
        var long_ = Message(1, 0) with { Summary = new string('x', 5000) };
        Assert.Equal(1600, ChannelFormats.SmsText(long_).Length);
    }

    private static MonitorRow Monitor(string? cron, TimeSpan? interval, TimeSpan grace, DateTimeOffset created) => new(
        1, "m", null, cron, interval, "UTC", grace, [], "up", false, null, null, null, null, null, null, created, created);

    [Fact]
    public void NextExpected_ASlightlyEarlyPingCountsForTheComingFireTime()
    {
        var daily = Monitor("0 3 * * *", null, TimeSpan.FromMinutes(10), DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        // On time (after 03:00): next is tomorrow.
        Assert.Equal(DateTimeOffset.Parse("2026-03-02T03:00:00Z"), daily.NextExpected(DateTimeOffset.Parse("2026-03-01T03:00:40Z")));
        // Two minutes early, within grace: it was today's run, so the next is tomorrow.
        Assert.Equal(DateTimeOffset.Parse("2026-03-02T03:00:00Z"), daily.NextExpected(DateTimeOffset.Parse("2026-03-01T02:58:00Z")));
        // Hours early: today's 03:00 is still expected.
        Assert.Equal(DateTimeOffset.Parse("2026-03-01T03:00:00Z"), daily.NextExpected(DateTimeOffset.Parse("2026-03-01T01:00:00Z")));
    }

    [Fact]
    public void NextExpected_IntervalsAreAnchoredAtCreation_AndGraceNeverSkipsAPeriod()
    {
        var created = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var everyMinute = Monitor(null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), created);
        // A grace longer than the period must not skip periods: the next minute is expected.
        Assert.Equal(created.AddMinutes(11), everyMinute.NextExpected(created.AddMinutes(10).AddSeconds(20)));
        // 5 s before a fire time, under half a period and within grace: counts for it.
        Assert.Equal(created.AddMinutes(12), everyMinute.NextExpected(created.AddMinutes(11).AddSeconds(-5)));
    }
}
