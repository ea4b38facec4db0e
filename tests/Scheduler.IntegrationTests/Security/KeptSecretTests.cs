using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Security;

/// <summary>A secret kept by a PUT that leaves it out is never sent to a new host.</summary>
public sealed class KeptSecretTests(ServerFixture server) : ServerTest(server)
{
    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private static string Sms(string baseUrl, string? token) =>
        $$"""{"type":"sms","settings":{"base_url":"{{baseUrl}}","account_sid":"AC1",{{(token is null ? "" : $"\"auth_token\":\"{token}\",")}}"from":"+15550001","to":["+15550002"]} }""";

    [Fact]
    public async Task ChannelPut_ToAnotherHost_MustRepeatTheKeptSecret()
    {
        using var oldApi = new RecordingListener { Respond = (_, _) => (201, "{}") };
        using var newApi = new RecordingListener { Respond = (_, _) => (201, "{}") };
        await Admin.PutJsonAsync("channels/pager", Sms(oldApi.Url, "old-token")).ExpectAsync(HttpStatusCode.Created);

        // The same host (another path) keeps the token.
        await Admin.PutJsonAsync("channels/pager", Sms(oldApi.Url + "/v2", null)).ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("channels/pager/test", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(Basic("AC1", "old-token"), (await oldApi.WaitForAsync(1))[0].Headers["Authorization"]);

        // Another host (another port here) without the token: refused, naming the secret; nothing changed.
        var problem = await Admin.PutJsonAsync("channels/pager", Sms(newApi.Url, null)).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("must be given again", Assert.Single(problem.Errors("settings.auth_token")));
        var stored = await Admin.GetAsync("channels/pager").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(oldApi.Url + "/v2", stored.GetProperty("settings").GetProperty("base_url").GetString());

        // Given again, it is the new token that goes to the new host.
        await Admin.PutJsonAsync("channels/pager", Sms(newApi.Url, "new-token")).ExpectAsync(HttpStatusCode.OK);
        var sent = await Admin.PostJsonAsync("channels/pager/test", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.True(sent.GetProperty("delivered").GetBoolean(), sent.GetRawText());
        Assert.Equal(Basic("AC1", "new-token"), (await newApi.WaitForAsync(1))[0].Headers["Authorization"]);
        Assert.Single(oldApi.Requests);
    }

    [Fact]
    public async Task ChannelPut_ToAnotherSmtpHost_RefusesTheKeptPassword_UnlessRemoved()
    {
        const string mail = "\"host\":\"{0}\",\"username\":\"bot\",\"from\":\"a@example.test\",\"to\":[\"b@example.test\"]";
        await Admin.PutJsonAsync("channels/mail", $$"""{"type":"email","settings":{{{string.Format(mail, "smtp.one.test")}},"password":"pw"} }""").ExpectAsync(HttpStatusCode.Created);
        var problem = await Admin.PutJsonAsync("channels/mail", $$"""{"type":"email","settings":{{{string.Format(mail, "smtp.two.test")}}} }""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("settings.password"));

        var removed = await Admin.PutJsonAsync("channels/mail", $$"""{"type":"email","settings":{{{string.Format(mail, "smtp.two.test")}},"password":null} }""").ExpectAsync(HttpStatusCode.OK);
        Assert.Empty(removed.GetProperty("secrets_set").EnumerateArray());
        Assert.Equal("smtp.two.test", removed.GetProperty("settings").GetProperty("host").GetString());
    }

    [Fact]
    public async Task ChannelPut_SlackApiUrlToAnotherHost_RefusesTheKeptBotToken_ButKeepsTheWebhookUrl()
    {
        await Admin.PutJsonAsync("channels/chat", """{"type":"slack","settings":{"webhook_url":"https://hooks.slack.example/x","bot_token":"xoxb-1","slack_channel":"#ops"} }""").ExpectAsync(HttpStatusCode.Created);
        var problem = await Admin.PutJsonAsync("channels/chat", """{"type":"slack","settings":{"slack_channel":"#ops","api_url":"https://evil.example/api"} }""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("settings.bot_token"));
        var kept = await Admin.PutJsonAsync("channels/chat", """{"type":"slack","settings":{"slack_channel":"#ops","api_url":"https://evil.example/api","bot_token":null} }""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["webhook_url"], kept.GetProperty("secrets_set").EnumerateArray().Select(s => s.GetString()!));
    }

    [Fact]
    public async Task ConnectionPut_KeepsNoPassword_TheWholeConnectionStringIsGivenEachTime()
    {
        await Admin.PutJsonAsync("connections/wh", """{"kind":"postgres","connection_string":"Host=db.one.test;Database=x;Username=u;Password=s3cr3t-pw"}""").ExpectAsync(HttpStatusCode.Created);
        var problem = await Admin.PutJsonAsync("connections/wh", """{"kind":"postgres"}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("connection_string"));
        var moved = await Admin.PutJsonAsync("connections/wh", """{"kind":"postgres","connection_string":"Host=db.two.test;Database=x;Username=u"}""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("db.two.test", moved.GetProperty("host").GetString());
        await using var scope = Server.Services.CreateAsyncScope();
        var resolved = await scope.ServiceProvider.GetRequiredService<Scheduler.Abstractions.IConnectionResolver>().ResolveAsync("wh", CancellationToken.None);
        Assert.DoesNotContain("s3cr3t-pw", resolved!.ConnectionString);
    }
}
