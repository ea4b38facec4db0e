using System.Net;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>The admin pages follow the signed-in user's team roles: a viewer who operates team "ops" may act on ops' DAGs there only.</summary>
public sealed class AdminTeamTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task TeamOperator_ActsOnOwnTeamsDag_AndIsRefusedOnOthers()
    {
        await Server.CreateTeamAsync("ops");
        await Admin.PutJsonAsync("dags/ops_page", TeamHelpers.Dag("ops_page", "ops")).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/other_page", TeamHelpers.Dag("other_page", null)).ExpectAsync(HttpStatusCode.Created);
        await Server.CreateUserAsync("teamop", "viewer", "teamop-password");
        // Team roles come from SSO group mappings; set directly here (not through the pages under test).
        await TestDatabase.ScalarAsync<int>("update access.users set team_roles = '{\"ops\": \"operator\"}' where username = 'teamop' returning 1");
        using var session = await AdminSession.SignedInAsync(Server, "teamop", "teamop-password");

        var own = await session.GetHtmlAsync("/admin/dags/ops_page");
        Assert.Contains("handler=Pause", own);
        var other = await session.GetHtmlAsync("/admin/dags/other_page");
        Assert.DoesNotContain("handler=Pause", other);

        using (var pause = await session.PostFormAsync("/admin/dags/ops_page?handler=Pause", AdminSession.Form(("paused", "true")), tokenFrom: "/admin/dags/ops_page"))
            Assert.Equal(HttpStatusCode.Redirect, pause.StatusCode);
        Assert.True((await Admin.GetAsync("dags/ops_page").ExpectAsync(HttpStatusCode.OK)).GetProperty("paused").GetBoolean());
        using (var refused = await session.PostFormAsync("/admin/dags/other_page?handler=Pause", AdminSession.Form(("paused", "true")), tokenFrom: "/admin/dags/other_page"))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False((await Admin.GetAsync("dags/other_page").ExpectAsync(HttpStatusCode.OK)).GetProperty("paused").GetBoolean());
    }
}
