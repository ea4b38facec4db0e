using System.Net;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>The admin pages always keep an admin: the last one cannot be demoted or deleted, not even by two at once.</summary>
public sealed class LastAdminTests(ServerFixture server) : ServerTest(server)
{
    private static Task<long> AdminCountAsync() => TestDatabase.ScalarAsync<long>("select count(*) from access.users where role = 'admin'");

    [Fact]
    public async Task LastAdmin_CannotBeDemotedOrDeleted()
    {
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var adminId = await AdminSession.UserIdAsync(ServerFixture.AdminUser);
        using (var demote = await admin.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", adminId), ("role", "operator"), ("password", "")), tokenFrom: "/admin/users"))
        {
            Assert.Equal(HttpStatusCode.Conflict, demote.StatusCode);
            Assert.Contains("last admin", await demote.Content.ReadAsStringAsync());
        }
        Assert.Equal(1L, await AdminCountAsync());

        // With a second admin, the first may go; then the second is the last.
        await Server.CreateUserAsync("second", "admin", "second-password");
        using var second = await AdminSession.SignedInAsync(Server, "second", "second-password");
        using (var delete = await second.PostFormAsync("/admin/users?handler=Delete", AdminSession.Form(("id", adminId)), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, delete.StatusCode);
        var secondId = await AdminSession.UserIdAsync("second");
        using (var demote = await second.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", secondId), ("role", "viewer"), ("password", "")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Conflict, demote.StatusCode);
        Assert.Equal("admin", await TestDatabase.ScalarAsync<string>("select role from access.users where username = 'second'"));
        // A password change of the last admin is no demotion.
        using (var password = await second.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", secondId), ("role", "admin"), ("password", "second-new-password")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
    }

    /// <summary>
    /// Two admins demote each other at the same moment, round after round: whatever the
    /// interleaving, one change wins and the other is refused (409) or finds its own session
    /// already ended, and an admin is left.
    /// </summary>
    [Fact]
    public async Task TwoAdminsDemotingEachOtherAtOnce_LeaveAnAdmin()
    {
        await Server.CreateUserAsync("second", "admin", "second-password");
        var ids = (first: await AdminSession.UserIdAsync(ServerFixture.AdminUser), second: await AdminSession.UserIdAsync("second"));
        for (var round = 0; round < 12; round++)
        {
            await TestDatabase.ScalarAsync<int>("update access.users set role = 'admin' where username in ('admin', 'second')");
            using var first = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
            using var second = await AdminSession.SignedInAsync(Server, "second", "second-password");
            var firstToken = AdminSession.Token(await first.GetHtmlAsync("/admin/users"));
            var secondToken = AdminSession.Token(await second.GetHtmlAsync("/admin/users"));
            var demote = round % 2 == 0;
            Task<HttpResponseMessage> Act(AdminSession session, string token, string target) => demote
                ? session.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", target), ("role", "viewer"), ("password", ""), ("__RequestVerificationToken", token)))
                : session.PostFormAsync("/admin/users?handler=Delete", AdminSession.Form(("id", target), ("__RequestVerificationToken", token)));
            var responses = await Task.WhenAll(Act(first, firstToken, ids.second), Act(second, secondToken, ids.first));
            Assert.True(await AdminCountAsync() >= 1, $"round {round}: no admin left ({string.Join(", ", responses.Select(r => (int)r.StatusCode))})");
            Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.Redirect && r.Headers.Location!.OriginalString == "/admin/users");
            foreach (var response in responses)
                response.Dispose();
            if (!demote)
            {
                // Put back whoever was deleted, for the next round.
                foreach (var (name, password) in new[] { (ServerFixture.AdminUser, ServerFixture.AdminPassword), ("second", "second-password") })
                    if (await TestDatabase.ScalarAsync<long>("select count(*) from access.users where username = @u", ("u", name)) == 0)
                        await Server.CreateUserAsync(name, "admin", password);
                ids = (await AdminSession.UserIdAsync(ServerFixture.AdminUser), await AdminSession.UserIdAsync("second"));
            }
        }
    }
}
