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

    [Fact]
    public async Task TeamAdmin_EditsAndCreatesOwnTeamsDags_AndSeesOwnBackfillsOnly()
    {
        await Server.CreateTeamDagsAsync("true", ("tea", "tea_dag"), ("teb", "teb_dag"));
        var backfillB = (await Admin.PostJsonAsync("dags/teb_dag/backfills", """{"from":"2026-01-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}""")
            .ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetInt64();
        await Server.CreateTeamOnlyUserAsync("tea_admin", "tea-admin-password", "tea", "admin");
        using var session = await AdminSession.SignedInAsync(Server, "tea_admin", "tea-admin-password");

        Assert.Contains("&quot;team&quot;: &quot;tea&quot;", await session.GetHtmlAsync("/admin/dags/new"));
        Assert.Contains("data-testid=\"new-dag\"", await session.GetHtmlAsync("/admin/dags"));
        var detail = await session.GetHtmlAsync("/admin/dags/tea_dag");
        Assert.Contains("data-testid=\"edit-dag\"", detail);
        Assert.DoesNotContain("data-testid=\"dag-history\"", detail); // the audit page needs a global admin
        Assert.Contains("tea_dag", await session.GetHtmlAsync("/admin/dags/tea_dag/edit"));
        using (var hidden = await session.GetAsync("/admin/dags/teb_dag/edit"))
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);

        async Task<HttpStatusCode> Save(string path, string definition)
        {
            using var response = await session.PostFormAsync(path, AdminSession.Form(("Definition", definition)), tokenFrom: "/admin/dags/new");
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.Redirect, await Save("/admin/dags/new", TeamHelpers.Dag("tea_new", "tea")));
        Assert.Equal(HttpStatusCode.BadRequest, await Save("/admin/dags/new", TeamHelpers.Dag("tea_none", null)));
        Assert.Equal(HttpStatusCode.BadRequest, await Save("/admin/dags/new", TeamHelpers.Dag("tea_other", "teb")));
        Assert.Equal(HttpStatusCode.BadRequest, await Save("/admin/dags/tea_dag/edit", TeamHelpers.Dag("tea_dag", "teb")));
        Assert.Equal(HttpStatusCode.NotFound, await Save("/admin/dags/teb_dag/edit", TeamHelpers.Dag("teb_dag", "tea")));
        Assert.Equal(HttpStatusCode.Redirect, await Save("/admin/dags/tea_dag/edit", TeamHelpers.Dag("tea_dag", "tea", "echo edited")));
        Assert.Equal("tea tea_dag 2|tea tea_new 1|teb teb_dag 1", await TestDatabase.ScalarAsync<string>(
            "select string_agg(team || ' ' || name || ' ' || version, '|' order by name) from dags.dags where name like 'te%'"));

        Assert.Contains("Backfills", await session.GetHtmlAsync("/admin/dags/tea_dag/backfill"));
        using (var other = await session.GetAsync("/admin/dags/teb_dag/backfill"))
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        // Another team's backfill through this team's DAG page: not this DAG's, so 404, and it goes on.
        using (var cancel = await session.PostFormAsync("/admin/dags/tea_dag/backfill?handler=Cancel", AdminSession.Form(("id", backfillB.ToString())),
                   tokenFrom: "/admin/dags/tea_dag/backfill"))
            Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        Assert.Equal(0, await TestDatabase.ScalarAsync<long>($"select count(*) from runs.backfills where id = {backfillB} and state = 'cancelled'"));
    }
}
