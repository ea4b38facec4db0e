using System.Net;
using System.Text.RegularExpressions;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>
/// Sessions of the admin pages end when their user changes (the security stamp), a deleted
/// user's API keys stop working, and the last admin stays an admin.
/// </summary>
public sealed partial class SessionTests(ServerFixture server) : ServerTest(server)
{
    private static async Task<bool> SignedInAsync(AdminSession session)
    {
        using var response = await session.GetAsync("/admin");
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static Task<HttpResponseMessage> UpdateAsync(AdminSession admin, string id, string role, string password = "") =>
        admin.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", role), ("password", password)), tokenFrom: "/admin/users");

    [Fact]
    public async Task PasswordChange_EndsTheUsersSessions_ButNotTheChangersOwn()
    {
        await Server.CreateUserAsync("alice", "viewer", "alice-password");
        using var alice = await AdminSession.SignedInAsync(Server, "alice", "alice-password");
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        using var adminElsewhere = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        Assert.True(await SignedInAsync(alice));

        using (var changed = await UpdateAsync(admin, await AdminSession.UserIdAsync("alice"), "viewer", "alice-new-password"))
            Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        Assert.False(await SignedInAsync(alice));
        using (var old = await alice.SignInAsync("alice", "alice-password"))
            Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.True(await SignedInAsync(alice) is false);
        using (var again = await alice.SignInAsync("alice", "alice-new-password"))
            Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.True(await SignedInAsync(alice));

        // The admin changes their own password: this session goes on, the other one ends.
        using (var own = await UpdateAsync(admin, await AdminSession.UserIdAsync(ServerFixture.AdminUser), "admin", "admin-new-password"))
            Assert.Equal(HttpStatusCode.Redirect, own.StatusCode);
        Assert.True(await SignedInAsync(admin));
        Assert.False(await SignedInAsync(adminElsewhere));
        // Saving without a change (same role, no password) ends nothing.
        using (var same = await UpdateAsync(admin, await AdminSession.UserIdAsync("alice"), "viewer"))
            Assert.Equal(HttpStatusCode.Redirect, same.StatusCode);
        Assert.True(await SignedInAsync(alice));
    }

    [Fact]
    public async Task RoleChange_EndsTheUsersSessions()
    {
        await Server.CreateUserAsync("olga", "operator", "olga-password");
        using var olga = await AdminSession.SignedInAsync(Server, "olga", "olga-password");
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        using (var demoted = await UpdateAsync(admin, await AdminSession.UserIdAsync("olga"), "viewer"))
            Assert.Equal(HttpStatusCode.Redirect, demoted.StatusCode);
        using var refused = await olga.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Equal("/admin/login", refused.Headers.Location!.AbsolutePath);
        using var again = await olga.SignInAsync("olga", "olga-password");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Contains("viewer", await olga.GetHtmlAsync("/admin"));
    }

    /// <summary>Another replica changed the user: this one's cached row is at most AdminCookieSetup.RecheckEvery (5 s) old.</summary>
    [Fact]
    public async Task StampChangedByAnotherReplica_EndsTheSessionWithinTheRecheckInterval()
    {
        await Server.CreateUserAsync("remote", "viewer", "remote-password");
        using var session = await AdminSession.SignedInAsync(Server, "remote", "remote-password");
        Assert.True(await SignedInAsync(session));
        await TestDatabase.ScalarAsync<int>("update access.users set security_stamp = 'changed-elsewhere' where username = 'remote'");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await SignedInAsync(session))
        {
            Assert.True(DateTime.UtcNow < deadline, "the session outlived its user's stamp by 15 s");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task DeletedUser_SessionEnds_AndTheKeysTheyCreatedStopWorking()
    {
        await Server.CreateUserAsync("leaver", "admin", "leaver-password");
        using var leaver = await AdminSession.SignedInAsync(Server, "leaver", "leaver-password");
        var page = await leaver.PostFormAsync("/admin/api-keys?handler=Create", AdminSession.Form(("name", "leavers-ci"), ("role", "operator")), tokenFrom: "/admin/api-keys");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var key = KeyInPage().Match(html).Value;
        Assert.StartsWith("sk_", key);
        using var ci = Server.NewClient(key);
        await ci.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
        // A key created with an API key has no owner and outlives any user.
        var unowned = await Server.CreateKeyAsync("service", "viewer");

        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        using (var deleted = await admin.PostFormAsync("/admin/users?handler=Delete", AdminSession.Form(("id", await AdminSession.UserIdAsync("leaver"))), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        Assert.False(await SignedInAsync(leaver));
        await ci.GetAsync("dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        Assert.NotNull(await TestDatabase.ScalarAsync<DateTime?>("select revoked_at from access.api_keys where name = 'leavers-ci'"));
        using var service = Server.NewClient(unowned);
        await service.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
    }

    [GeneratedRegex("sk_[A-Za-z0-9_-]{30,}")]
    private static partial Regex KeyInPage();
}
