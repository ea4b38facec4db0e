using System.Net;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access.Sso;

/// <summary>
/// The admin pages' login form against a real LDAP directory (slapd on loopback): people bind
/// with their directory password, their groups map to roles, they are recorded with source
/// ldap, and a changed group gives the new role at the next sign-in (ending the old session).
/// Local users keep signing in; a directory entry never takes over a local user's name.
/// </summary>
public sealed class LdapSignInTests(ServerFixture server) : ServerTest(server), IAsyncLifetime
{
    private Slapd _slapd = null!;
    private ExtraServer _server = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Server.ResetAsync();
        _slapd = await Slapd.StartAsync(
            [("bob", "bob-directory-pw"), ("carol", "carol-directory-pw"), ("dave", "dave-directory-pw"), (ServerFixture.AdminUser, "admin-directory-pw"), ("eve", "eve-directory-pw")],
            [("sched-ops", ["bob"]), ("sched-viewers", ["dave"]), ("sched-admins", []), ("unrelated", ["carol"]), ("billing", ["eve"])]);
        _server = new ExtraServer(LdapSettings(_slapd.Port));
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await _server.DisposeAsync();
        await _slapd.DisposeAsync();
    }

    private static Dictionary<string, string?> LdapSettings(int port, bool search = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:Ldap:Host"] = "127.0.0.1",
            ["Auth:Ldap:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Auth:Ldap:GroupSearchBase"] = "ou=groups," + Slapd.Suffix,
            ["Auth:Ldap:GroupMappings:sched-ops"] = "operator",
            ["Auth:Ldap:GroupMappings:sched-viewers"] = "viewer",
            ["Auth:Ldap:GroupMappings:sched-admins"] = "admin",
            ["Auth:Ldap:GroupMappings:billing"] = "billing:admin", // a team grant: admin in team billing, no global role
        };
        if (search)
        {
            settings["Auth:Ldap:SearchBase"] = "ou=people," + Slapd.Suffix;
            settings["Auth:Ldap:ServiceDn"] = Slapd.RootDn;
            settings["Auth:Ldap:ServicePassword"] = Slapd.RootPassword;
        }
        else
            settings["Auth:Ldap:BindDnTemplate"] = "uid={0},ou=people," + Slapd.Suffix;
        return settings;
    }

    private static async Task<(string? Source, string? Role)> RowAsync(string username) =>
        (await TestDatabase.ScalarAsync<string>("select source from access.users where username = @u", ("u", username)),
         await TestDatabase.ScalarAsync<string>("select role from access.users where username = @u", ("u", username)));

    private async Task<(HttpStatusCode Status, string Html, AdminSession Session)> SignInAsync(string username, string password, Uri? server = null)
    {
        var session = new AdminSession(server ?? _server.BaseAddress);
        using var response = await session.SignInAsync(username, password);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), session);
    }

    [Fact]
    public async Task DirectoryUser_SignsIn_WithTheRoleOfTheirGroup_RecordedAsLdap()
    {
        var (status, _, session) = await SignInAsync("bob", "bob-directory-pw");
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Equal(("ldap", "operator"), await RowAsync("bob"));
        var dashboard = await session.GetHtmlAsync("/admin");
        Assert.Contains("Dashboard", dashboard);
        // An operator is not an admin: the users page is refused.
        using var users = await session.GetAsync("/admin/users");
        Assert.Equal(HttpStatusCode.Forbidden, users.StatusCode);
        session.Dispose();
    }

    [Fact]
    public async Task WrongPassword_UnknownUser_AndEmptyPassword_AreRefusedAlike()
    {
        foreach (var (user, password) in new[] { ("bob", "not-bobs-password"), ("nobody", "whatever-pw"), ("bob", ""), ("*", "bob-directory-pw"), ("bob)(uid=*", "bob-directory-pw") })
        {
            var (status, html, session) = await SignInAsync(user, password);
            session.Dispose();
            Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, $"{user}/{password}: {(int)status}");
            if (status == HttpStatusCode.Unauthorized)
                Assert.Contains("Invalid username or password", html);
        }
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from access.users where source = 'ldap'"));
    }

    [Fact]
    public async Task DirectoryUserWithoutAMappedGroup_IsRefusedWithAClearPage()
    {
        foreach (var user in new[] { "carol", "eve" }) // eve's group gives a role in team billing, which does not exist here
        {
            var (status, html, session) = await SignInAsync(user, user + "-directory-pw");
            session.Dispose();
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("none of its groups gives a role", html);
            Assert.Equal(((string?)null, (string?)null), await RowAsync(user));
        }
    }

    [Fact]
    public async Task ChangedGroup_GivesTheNewRole_AtTheNextSignIn_AndEndsTheOldSession()
    {
        var (status, _, first) = await SignInAsync("dave", "dave-directory-pw");
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Equal(("ldap", "viewer"), await RowAsync("dave"));
        await first.GetHtmlAsync("/admin");

        _slapd.SetMember("sched-admins", "dave", member: true);
        _slapd.SetMember("sched-viewers", "dave", member: false);
        var (again, _, second) = await SignInAsync("dave", "dave-directory-pw");
        Assert.Equal(HttpStatusCode.Redirect, again);
        Assert.Equal(("ldap", "admin"), await RowAsync("dave"));
        Assert.Contains("data-user=\"dave\"", await second.GetHtmlAsync("/admin/users"));

        // The role changed, so did the stamp: the session signed in as a viewer has ended.
        using var old = await first.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, old.StatusCode);
        Assert.Contains("/admin/login", old.Headers.Location!.ToString());

        // Out of every mapped group: refused, and the admin session ends too.
        _slapd.SetMember("sched-admins", "dave", member: false);
        var (refused, _, third) = await SignInAsync("dave", "dave-directory-pw");
        third.Dispose();
        Assert.Equal(HttpStatusCode.Forbidden, refused);
        using var ended = await second.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        first.Dispose();
        second.Dispose();
    }

    [Fact]
    public async Task TeamGroup_GrantsTheTeamRole_BesidesTheGlobalRole()
    {
        await Server.CreateTeamAsync("billing");
        // billing alone gives a team role only: eve signs in, without a global role, and the global-only pages refuse her.
        var (teamOnly, _, only) = await SignInAsync("eve", "eve-directory-pw");
        Assert.Equal(HttpStatusCode.Redirect, teamOnly);
        Assert.Equal(("ldap", (string?)null), await RowAsync("eve"));
        Assert.Contains("billing:admin", await only.GetHtmlAsync("/admin/dags"));
        using (var users = await only.GetAsync("/admin/users"))
            Assert.Equal(HttpStatusCode.Forbidden, users.StatusCode);
        only.Dispose();
        _slapd.SetMember("sched-viewers", "eve", member: true);
        var (status, _, session) = await SignInAsync("eve", "eve-directory-pw");
        session.Dispose();
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Equal(("ldap", "viewer"), await RowAsync("eve"));
        Assert.Equal("{\"billing\": \"admin\"}", await TestDatabase.ScalarAsync<string>("select team_roles::text from access.users where username = 'eve'"));
        _slapd.SetMember("billing", "eve", member: false);
        (status, _, session) = await SignInAsync("eve", "eve-directory-pw");
        session.Dispose();
        Assert.Equal("{}", await TestDatabase.ScalarAsync<string>("select team_roles::text from access.users where username = 'eve'"));
    }

    [Fact]
    public async Task LocalUsers_StillSignIn_AndTheDirectoryNeverTakesOverTheirName()
    {
        var (local, _, session) = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, local);
        // The directory has an entry of the same name, with another password: it is not asked.
        var (takeover, html, other) = await SignInAsync(ServerFixture.AdminUser, "admin-directory-pw");
        other.Dispose();
        Assert.Equal(HttpStatusCode.Unauthorized, takeover);
        Assert.Contains("Invalid username or password", html);
        Assert.Equal(("local", "admin"), await RowAsync(ServerFixture.AdminUser));

        // The users page shows the source; an LDAP user gets no password field, and a password posted anyway is refused.
        (await SignInAsync("bob", "bob-directory-pw")).Session.Dispose();
        var page = await session.GetHtmlAsync("/admin/users");
        Assert.Contains("data-user=\"bob\"><td>bob</td><td>operator</td><td data-testid=\"team-roles\"></td><td data-testid=\"source\">ldap</td>", page);
        Assert.Contains($"data-user=\"{ServerFixture.AdminUser}\"><td>{ServerFixture.AdminUser}</td><td>admin</td><td data-testid=\"team-roles\"></td><td data-testid=\"source\">local</td>", page);
        var bobId = await AdminSession.UserIdAsync("bob");
        Assert.DoesNotContain($"id=\"pw-{bobId}\"", page);
        using var update = await session.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", bobId), ("role", "operator"), ("password", "a-local-password")), tokenFrom: "/admin/users");
        Assert.Equal(HttpStatusCode.Conflict, update.StatusCode);
        Assert.Contains("signs in with ldap", await update.Content.ReadAsStringAsync());
        Assert.Null(await TestDatabase.ScalarAsync<string>("select password_hash from access.users where username = 'bob'"));
        session.Dispose();
    }

    [Fact]
    public async Task SearchMode_FindsTheUsersDn_WithAServiceAccount()
    {
        await using var search = new ExtraServer(LdapSettings(_slapd.Port, search: true));
        var (status, _, session) = await SignInAsync("bob", "bob-directory-pw", search.BaseAddress);
        session.Dispose();
        Assert.Equal(HttpStatusCode.Redirect, status);
        Assert.Equal(("ldap", "operator"), await RowAsync("bob"));
        var (wrong, _, other) = await SignInAsync("bob", "wrong-password", search.BaseAddress);
        other.Dispose();
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
    }

    [Fact]
    public async Task UnreachableDirectory_SaysSo_AndLocalUsersStillSignIn()
    {
        await using var down = new ExtraServer(LdapSettings(Loopback.FreePort()));
        var (status, html, session) = await SignInAsync("bob", "bob-directory-pw", down.BaseAddress);
        session.Dispose();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("could not be reached", html);
        var (local, _, admin) = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword, down.BaseAddress);
        admin.Dispose();
        Assert.Equal(HttpStatusCode.Redirect, local);
    }
}
