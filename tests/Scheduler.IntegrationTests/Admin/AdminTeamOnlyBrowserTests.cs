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
        await Server.CreateTeamDagsAsync("true", ("tbr_a", "tbr_a_dag"), ("tbr_b", "tbr_b_dag"));
        await Server.CreateTeamOnlyUserAsync("tbr_user", "tbr-user-password", "tbr_a", "operator");

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
