using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>The notification and monitor pages, and the Hangfire dashboard at /admin/jobs.</summary>
public sealed class AdminNotificationPagesTests(ServerFixture server) : ServerTest(server)
{
    private static Dictionary<string, string> Form(params (string Key, string Value)[] fields) => fields.ToDictionary(f => f.Key, f => f.Value);

    [Fact]
    public async Task NotificationsPage_ShowsDeliveries_RetriesAFailedOne_AndSendsATest()
    {
        using var hook = new RecordingListener { Respond = (_, _) => (500, "down") };
        await Admin.PostJsonAsync("channels", $$"""{"name":"hook","type":"webhook","settings":{"url":"{{hook.Url}}/in","secret":"webhook-shared-secret-0123456789"} }""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"told","notifications":[{"on":["success"],"channel":"hook"}],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("told");
        await Admin.WaitForRunAsync(runId);
        await hook.WaitForAsync(3); // three attempts, all refused: the delivery fails

        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string html;
        do
        {
            html = await session.GetHtmlAsync("/admin/notifications?status=failed");
        }
        while (!html.Contains("answered 500") && DateTime.UtcNow < deadline);
        Assert.Contains("answered 500", html);
        Assert.Contains($"/admin/runs/{runId}", html);
        Assert.DoesNotContain("webhook-shared-secret-0123456789", html);

        hook.Respond = (_, _) => (200, "ok");
        var id = (await Admin.GetAsync($"notifications/deliveries?run_id={runId}").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("id").GetInt64();
        using (var retry = await session.PostFormAsync("/admin/notifications?handler=Retry", Form(("id", id.ToString())), tokenFrom: "/admin/notifications"))
            Assert.Equal(HttpStatusCode.Redirect, retry.StatusCode);
        await hook.WaitForAsync(4);
        using (var test = await session.PostFormAsync("/admin/notifications?handler=Test", Form(("name", "hook")), tokenFrom: "/admin/notifications"))
            Assert.Equal(HttpStatusCode.Redirect, test.StatusCode);
        Assert.Contains("Test message sent", await session.GetHtmlAsync("/admin/notifications"));

        // A viewer sees the history but no retry button, and is refused the action.
        await Server.CreateUserAsync("watcher", "viewer", "viewer-password");
        using var viewer = await AdminSession.SignedInAsync(Server, "watcher", "viewer-password");
        var seen = await viewer.GetHtmlAsync("/admin/notifications");
        Assert.Contains("data-testid=\"deliveries\"", seen);
        Assert.DoesNotContain("handler=Retry", seen);
        Assert.DoesNotContain("Send test", seen);
        using var refused = await viewer.PostFormAsync("/admin/notifications?handler=Retry", Form(("id", id.ToString())), tokenFrom: "/admin/notifications");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task MonitorsPage_ListsStates_AndShowsPings()
    {
        var token = (await Admin.PostJsonAsync("monitors", """{"name":"backup","cron":"0 3 * * *","timezone":"Europe/Berlin"}""").ExpectAsync(HttpStatusCode.Created)).GetProperty("token").GetString();
        await Anonymous.PostAsync($"api/v1/monitors/backup/ping?token={token}&status=fail", null).ExpectAsync(HttpStatusCode.OK);
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var list = await session.GetHtmlAsync("/admin/monitors");
        Assert.Contains("href=\"/admin/monitors/backup\"", list);
        Assert.Contains(">failed<", list);
        var detail = await session.GetHtmlAsync("/admin/monitors/backup");
        Assert.Contains("data-testid=\"pings\"", detail);
        Assert.Contains("<td>fail</td>", detail);
        Assert.Contains("0 3 * * *", detail);
        using var missing = await session.GetAsync("/admin/monitors/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task JobsDashboard_IsForAdminsOnly()
    {
        // Not signed in: sent to the sign-in page, like every admin page.
        using (var anonymous = await new AdminSession(Server).GetAsync("/admin/jobs"))
        {
            Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
            Assert.StartsWith("/admin/login", anonymous.Headers.Location!.OriginalString.Replace(Server.BaseAddress.ToString().TrimEnd('/'), ""));
        }
        await Server.CreateUserAsync("watcher", "viewer", "viewer-password");
        using var viewer = await AdminSession.SignedInAsync(Server, "watcher", "viewer-password");
        using (var refused = await viewer.GetAsync("/admin/jobs"))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        // An API key does not open it either: the dashboard belongs to the admin pages.
        using (var keyed = await Server.NewClient(ServerFixture.BootstrapKey).GetAsync(new Uri(Server.BaseAddress, "/admin/jobs")))
            Assert.Equal("/admin/login", keyed.RequestMessage!.RequestUri!.AbsolutePath); // redirected to sign in
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var html = await admin.GetHtmlAsync("/admin/jobs");
        Assert.Contains("Scheduler jobs", html);
    }
}
