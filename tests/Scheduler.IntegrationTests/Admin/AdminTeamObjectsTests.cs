using System.Net;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>
/// The pages of team-owned objects (variables, connections, channels, monitors) let a team's admin
/// (an operator suffices for a monitor's pause) act on that team's objects, refuse the rest as the API's
/// team gates do, and save an object into the team the form names (not out of it unasked).
/// </summary>
public sealed class AdminTeamObjectsTests(ServerFixture server) : ServerTest(server)
{
    private static async Task<HttpStatusCode> PostAsync(AdminSession session, string page, string handler, (string, string)[] fields, string? tokenFrom = null)
    {
        using var response = await session.PostFormAsync($"{page}?handler={handler}", AdminSession.Form(fields), tokenFrom: tokenFrom ?? page);
        return response.StatusCode;
    }

    private static (string, string)[] Connection(string name, string team) =>
        [("name", name), ("kind", "postgres"), ("connectionString", TestDatabase.ConnectionString), ("team", team)];

    private static string Owner(string table, string name) =>
        $"select coalesce(team, '(none)') from {table} where name = '{name}'";

    [Fact]
    public async Task TeamAdmin_SavesAndDeletesOwnTeamsVariables_Only()
    {
        await Server.CreateTeamAsync("toa");
        await Server.CreateTeamAsync("tob");
        await Admin.PutJsonAsync("variables/tob_var", """{"value":"b","team":"tob"}""").ExpectAsync(HttpStatusCode.Created);
        await Server.CreateTeamOnlyUserAsync("toa_admin", "toa-admin-password", "toa", "admin");
        using var session = await AdminSession.SignedInAsync(Server, "toa_admin", "toa-admin-password");

        var page = await session.GetHtmlAsync("/admin/variables");
        Assert.Contains("data-testid=\"save-variable\"", page);
        Assert.Contains("<option value=\"toa\"", page);
        Assert.DoesNotContain("tob", page);

        Task<HttpStatusCode> Save(string name, string team) => PostAsync(session, "/admin/variables", "Save", [("name", name), ("value", "\"v\""), ("team", team)]);
        Assert.Equal(HttpStatusCode.Redirect, await Save("toa_var", "toa"));
        Assert.Equal("toa", await TestDatabase.ScalarAsync<string>(Owner("workers.variables", "toa_var")));
        Assert.Equal("toa_admin", await TestDatabase.ScalarAsync<string>(
            "select actor_name from audit.entries where action = 'variable.create' and target = 'variable/toa_var'"));
        Assert.Equal(HttpStatusCode.BadRequest, await Save("toa_none", ""));
        Assert.Equal(HttpStatusCode.BadRequest, await Save("toa_other", "tob"));
        Assert.Equal(HttpStatusCode.BadRequest, await Save("tob_var", "toa"));
        Assert.Equal(0, await TestDatabase.ScalarAsync<long>("select count(*) from workers.variables where name in ('toa_none', 'toa_other')"));
        Assert.Equal("tob", await TestDatabase.ScalarAsync<string>(Owner("workers.variables", "tob_var")));

        Assert.Equal(HttpStatusCode.NotFound, await PostAsync(session, "/admin/variables", "Delete", [("name", "tob_var")]));
        Assert.Equal(HttpStatusCode.Redirect, await PostAsync(session, "/admin/variables", "Delete", [("name", "toa_var")]));
        Assert.Equal(1, await TestDatabase.ScalarAsync<long>("select count(*) from workers.variables where name in ('toa_var', 'tob_var')"));

        // A team's viewer sees the list and no form, and a forged save is 403.
        await Server.CreateTeamOnlyUserAsync("toa_viewer", "toa-viewer-password", "toa", "viewer");
        using var viewer = await AdminSession.SignedInAsync(Server, "toa_viewer", "toa-viewer-password");
        Assert.DoesNotContain("data-testid=\"save-variable\"", await viewer.GetHtmlAsync("/admin/variables"));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(viewer, "/admin/variables", "Save", [("name", "toa_forged"), ("value", "1"), ("team", "toa")]));
    }

    [Fact]
    public async Task GlobalAdminsPageSave_KeepsTheTeamItNames()
    {
        await Server.CreateTeamAsync("toc");
        await Admin.PostJsonAsync("connections", new { name = "toc_conn", kind = "postgres", connection_string = TestDatabase.ConnectionString, team = "toc" })
            .ExpectAsync(HttpStatusCode.Created);
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var page = await session.GetHtmlAsync("/admin/connections");
        Assert.Contains("<option value=\"toc\"", page);

        Assert.Equal(HttpStatusCode.Redirect, await PostAsync(session, "/admin/connections", "Save", Connection("toc_conn", "toc")));
        Assert.Equal("toc", await TestDatabase.ScalarAsync<string>(Owner("workers.connections", "toc_conn")));
        using (var unknown = await session.PostFormAsync("/admin/connections?handler=Save", AdminSession.Form(Connection("toc_conn", "no_such_team")), tokenFrom: "/admin/connections"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
            Assert.Contains("no team named", await unknown.Content.ReadAsStringAsync());
        }
        // Empty is no team: a global admin may move it out (audited), as PUT without "team" does.
        Assert.Equal(HttpStatusCode.Redirect, await PostAsync(session, "/admin/connections", "Save", Connection("toc_conn", "")));
        Assert.Equal("(none)", await TestDatabase.ScalarAsync<string>(Owner("workers.connections", "toc_conn")));
    }

    [Fact]
    public async Task TeamAdmin_ManagesOwnConnections_TestsOwnChannels_AndPausesOwnMonitors()
    {
        await Server.CreateTeamAsync("tod");
        await Server.CreateTeamAsync("toe");
        await Admin.PostJsonAsync("connections", new { name = "toe_conn", kind = "postgres", connection_string = TestDatabase.ConnectionString, team = "toe" })
            .ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("monitors", """{"name":"tod_mon","interval":"PT1H","grace":"PT0S","team":"tod"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("monitors", """{"name":"toe_mon","interval":"PT1H","grace":"PT0S","team":"toe"}""").ExpectAsync(HttpStatusCode.Created);
        using var hook = new RecordingListener();
        foreach (var team in new[] { "tod", "toe" })
            await Admin.PostJsonAsync("channels", $$"""{"name":"{{team}}_chan","type":"webhook","team":"{{team}}","settings":{"url":"{{hook.Url}}/{{team}}","secret":"webhook-shared-secret-0123456789"} }""")
                .ExpectAsync(HttpStatusCode.Created);
        await Server.CreateTeamOnlyUserAsync("tod_admin", "tod-admin-password", "tod", "admin");
        using var session = await AdminSession.SignedInAsync(Server, "tod_admin", "tod-admin-password");

        Assert.Equal(HttpStatusCode.Redirect, await PostAsync(session, "/admin/connections", "Save", Connection("tod_conn", "tod")));
        Assert.Equal("tod", await TestDatabase.ScalarAsync<string>(Owner("workers.connections", "tod_conn")));
        var page = await session.GetHtmlAsync("/admin/connections");
        Assert.Contains("data-connection=\"tod_conn\"", page);
        Assert.DoesNotContain("toe_conn", page);
        Assert.Equal(HttpStatusCode.NotFound, await PostAsync(session, "/admin/connections", "Delete", [("name", "toe_conn")]));
        Assert.Equal(HttpStatusCode.Redirect, await PostAsync(session, "/admin/connections", "Delete", [("name", "tod_conn")]));
        Assert.Equal(0, await TestDatabase.ScalarAsync<long>("select count(*) from workers.connections where name = 'tod_conn'"));
        Assert.Equal(1, await TestDatabase.ScalarAsync<long>("select count(*) from workers.connections where name = 'toe_conn'"));

        var channels = await session.GetHtmlAsync("/admin/notifications");
        Assert.Contains("data-channel=\"tod_chan\"", channels);
        Assert.DoesNotContain("toe_chan", channels);
        Assert.Equal(HttpStatusCode.Redirect, await PostAsync(session, "/admin/notifications", "Test", [("name", "tod_chan")]));
        Assert.Equal(HttpStatusCode.NotFound, await PostAsync(session, "/admin/notifications", "Test", [("name", "toe_chan")]));
        await hook.WaitForAsync(1);
        Assert.All(hook.Requests, r => Assert.EndsWith("/tod", r.Path));

        Assert.Contains("handler=Pause", await session.GetHtmlAsync("/admin/monitors/tod_mon"));
        Assert.Equal(HttpStatusCode.Redirect, await PostAsync(session, "/admin/monitors", "Pause", [("name", "tod_mon"), ("paused", "true")], tokenFrom: "/admin/monitors/tod_mon"));
        Assert.True(await TestDatabase.ScalarAsync<bool>("select paused from notifications.monitors where name = 'tod_mon'"));
        Assert.Equal(HttpStatusCode.NotFound, await PostAsync(session, "/admin/monitors", "Pause", [("name", "toe_mon"), ("paused", "true")]));
        Assert.False(await TestDatabase.ScalarAsync<bool>("select paused from notifications.monitors where name = 'toe_mon'"));
    }
}
