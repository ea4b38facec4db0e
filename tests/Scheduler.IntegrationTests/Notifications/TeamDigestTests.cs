using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Notifications;

/// <summary>A team's digest channel reports its team's DAGs and monitors, never another team's or those without a team.</summary>
public sealed class TeamDigestTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task TeamDigest_ListsOnlyItsTeamsDagsAndMonitors()
    {
        using var hook = new RecordingListener();
        await Server.CreateTeamAsync("pay");
        await Admin.PutJsonAsync("dags/pay_report", TeamHelpers.Dag("pay_report", "pay")).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/open_report", TeamHelpers.Dag("open_report", null)).ExpectAsync(HttpStatusCode.Created);
        await Admin.WaitForRunAsync(await Admin.TriggerAsync("pay_report"));
        await Admin.WaitForRunAsync(await Admin.TriggerAsync("open_report"));
        await Admin.PostJsonAsync("monitors", """{"name":"pay_backup","interval":"PT1H","team":"pay"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("monitors", """{"name":"open_backup","interval":"PT1H"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("channels", $$"""{"name":"pay_digest","team":"pay","type":"webhook","settings":{"url":"{{hook.Url}}/digest","secret":"webhook-shared-secret-0123456789"},"digest":{"cron":"* * * * * *"} }""")
            .ExpectAsync(HttpStatusCode.Created);
        var digest = JsonDocument.Parse((await hook.WaitForAsync(1, timeout: TimeSpan.FromSeconds(10)))[0].Body).RootElement;
        Assert.Equal(["pay_report"], digest.GetProperty("dags").EnumerateArray().Select(d => d.GetProperty("name").GetString()!));
        Assert.Equal(["pay_backup"], digest.GetProperty("monitors").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
    }
}
