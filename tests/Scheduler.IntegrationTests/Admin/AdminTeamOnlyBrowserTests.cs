using Microsoft.Playwright;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>In Chromium: a user with team roles only sees their team's DAG, not another's, and no links to the global-only pages.</summary>
public sealed class AdminTeamOnlyBrowserTests(ServerFixture server) : BrowserTest(server)
{
    [Fact]
    public async Task TeamOnlyUser_SeesTheirTeamsDagsAndNavigation()
    {
        await Server.CreateTeamAsync("tbr_a");
        await Server.CreateTeamAsync("tbr_b");
        await Admin.PutJsonAsync("dags/tbr_a_dag", TeamHelpers.Dag("tbr_a_dag", "tbr_a")).ExpectAsync(System.Net.HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/tbr_b_dag", TeamHelpers.Dag("tbr_b_dag", "tbr_b")).ExpectAsync(System.Net.HttpStatusCode.Created);
        await Server.CreateUserAsync("tbr_user", "viewer", "tbr-user-password");
        await TestDatabase.ScalarAsync<int>("update access.users set role = null, team_roles = '{\"tbr_a\": \"operator\"}' where username = 'tbr_user' returning 1");

        var page = await SignInAsync("tbr_user", "tbr-user-password");
        await Expect(page.GetByTestId("role")).ToHaveTextAsync("tbr_a:operator");
        foreach (var link in new[] { "Users", "Workers", "Dead letters", "Audit" })
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = link, Exact = true })).ToHaveCountAsync(0);
        await page.GotoAsync("/admin/dags");
        await Expect(page.Locator("tr[data-dag='tbr_a_dag']")).ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-dag='tbr_b_dag']")).ToHaveCountAsync(0);
        var other = await page.GotoAsync("/admin/dags/tbr_b_dag");
        Assert.Equal(404, other!.Status);
    }
}
