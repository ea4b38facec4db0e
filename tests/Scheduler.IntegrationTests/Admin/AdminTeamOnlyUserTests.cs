using System.Net;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>A user with team roles only (no global role) signs in to the pages and sees their team's objects alone, as a team-only API key does.</summary>
public sealed class AdminTeamOnlyUserTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task TeamOnlyUser_SeesOwnTeam_AndGets404ForTheOther()
    {
        await Server.CreateTeamDagsAsync("false", ("tpa", "tpa_dag"), ("tpb", "tpb_dag"));
        await Admin.PutJsonAsync("variables/tpa_var", """{"value":"for-a","team":"tpa"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("variables/tpb_var", """{"value":"for-b","team":"tpb"}""").ExpectAsync(HttpStatusCode.Created);
        var runA = await Admin.TriggerAsync("tpa_dag");
        var runB = await Admin.TriggerAsync("tpb_dag");
        await Server.CreateTeamOnlyUserAsync("tpa_viewer", "tpa-viewer-password", "tpa", "viewer");
        using var session = await AdminSession.SignedInAsync(Server, "tpa_viewer", "tpa-viewer-password");

        var list = await session.GetHtmlAsync("/admin/dags?q=tp");
        Assert.Contains("tpa_dag", list);
        Assert.DoesNotContain("tpb_dag", list);
        var dashboard = await session.GetHtmlAsync("/admin");
        Assert.DoesNotContain("tpb_dag", dashboard);
        Assert.DoesNotContain("/admin/workers", dashboard);
        Assert.DoesNotContain("/admin/users", dashboard);

        Assert.Contains("tpa_dag", await session.GetHtmlAsync("/admin/dags/tpa_dag"));
        Assert.Contains("tpa_dag", await session.GetHtmlAsync($"/admin/runs/{runA}"));
        using (var dagB = await session.GetAsync("/admin/dags/tpb_dag"))
            Assert.Equal(HttpStatusCode.NotFound, dagB.StatusCode);
        using (var otherRun = await session.GetAsync($"/admin/runs/{runB}"))
            Assert.Equal(HttpStatusCode.NotFound, otherRun.StatusCode);

        var variables = await session.GetHtmlAsync("/admin/variables");
        Assert.Contains("tpa_var", variables);
        Assert.DoesNotContain("tpb_var", variables);

        foreach (var page in new[] { "/admin/users", "/admin/api-keys", "/admin/audit", "/admin/workers", "/admin/dead-letters" })
        {
            using var refused = await session.GetAsync(page);
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{page}: {(int)refused.StatusCode}");
        }
    }

    [Fact]
    public async Task Dashboard_CountsOnlyTheTeamsRuns()
    {
        await Server.CreateTeamAsync("tpc");
        await Server.CreateTeamAsync("tpd");
        await Admin.PutJsonAsync("dags/tpd_fails", TeamHelpers.Dag("tpd_fails", "tpd", "false")).ExpectAsync(HttpStatusCode.Created);
        var run = await Admin.TriggerAsync("tpd_fails");
        await Admin.WaitForRunAsync(run);
        await Server.CreateTeamOnlyUserAsync("tpc_viewer", "tpc-viewer-password", "tpc", "viewer");
        using var session = await AdminSession.SignedInAsync(Server, "tpc_viewer", "tpc-viewer-password");

        var dashboard = await session.GetHtmlAsync("/admin");
        Assert.Contains("data-testid=\"failed-runs\">0<", dashboard);
        Assert.DoesNotContain($"/admin/runs/{run}\"", dashboard);
    }

    [Fact]
    public async Task UsersPage_EditsTeamRoles_AuditedAsUserUpdate()
    {
        await Server.CreateTeamAsync("tpe");
        await Server.CreateUserAsync("tpe_user", "viewer", "tpe-user-password");
        var id = await AdminSession.UserIdAsync("tpe_user");
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);

        using (var bad = await session.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", "viewer"), ("roles", "tpe-operator")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using (var unknown = await session.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", "none"), ("roles", "no_such_team:viewer")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        using (var none = await session.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", "none"), ("roles", "")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        using (var saved = await session.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", "none"), ("roles", "tpe:operator")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);

        Assert.Null(await TestDatabase.ScalarAsync<string?>("select role from access.users where username = 'tpe_user'"));
        Assert.Equal("{\"tpe\": \"operator\"}", await TestDatabase.ScalarAsync<string>("select team_roles::text from access.users where username = 'tpe_user'"));
        var audit = await TestDatabase.ScalarAsync<string>(
            "select details::text from audit.entries where action = 'user.update' and target = 'user/tpe_user' order by id desc limit 1");
        Assert.Contains("\"roles\"", audit);
        Assert.Contains("tpe:operator", await session.GetHtmlAsync("/admin/users"));

        // The team-only user signs in and gets their team's pages only.
        using var user = await AdminSession.SignedInAsync(Server, "tpe_user", "tpe-user-password");
        Assert.Contains("tpe:operator", await user.GetHtmlAsync("/admin/dags"));
    }
}
