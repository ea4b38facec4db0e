using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>The admin pages over plain HTTP: sign-in, redirects, CSRF, roles, user management.</summary>
public sealed class AdminAuthTests(ServerFixture server) : ServerTest(server)
{
    private const string Dag = """{"name":"admin_http","tasks":[{"id":"a"}]}""";

    [Fact]
    public async Task Pages_RedirectToSignIn_WhenAnonymous()
    {
        using var session = new AdminSession(Server);
        using var response = await session.GetAsync("/admin/dags?q=x");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/admin/login?ReturnUrl=%2Fadmin%2Fdags%3Fq%3Dx", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task Pages_IgnoreApiKeys_AndApiIgnoresTheCookie()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/admin");
        request.Headers.Add("X-Api-Key", ServerFixture.BootstrapKey);
        using var noFollow = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress };
        Assert.Equal(HttpStatusCode.Redirect, (await noFollow.SendAsync(request)).StatusCode);

        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var cookie = session.Cookies.GetCookieHeader(new Uri(Server.BaseAddress, "/admin"));
        Assert.Contains("scheduler_admin=", cookie);
        var api = new HttpRequestMessage(HttpMethod.Get, "/api/v1/dags");
        api.Headers.Add("Cookie", cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await noFollow.SendAsync(api)).StatusCode);
    }

    [Fact]
    public async Task SignIn_Fails_WithWrongPassword()
    {
        using var session = new AdminSession(Server);
        using var response = await session.SignInAsync(ServerFixture.AdminUser, "wrong-password");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Invalid username or password", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await session.GetAsync("/admin")).StatusCode);
    }

    [Fact]
    public async Task SignIn_ThenSignOut_EndsTheSession()
    {
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var dashboard = await session.GetHtmlAsync("/admin");
        Assert.Contains("Recent failures", dashboard);
        using var signOut = await session.PostFormAsync("/admin/logout", AdminSession.Form(), tokenFrom: "/admin");
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await session.GetAsync("/admin")).StatusCode);
    }

    [Fact]
    public async Task SignIn_DoesNotRedirectOffSite()
    {
        using var session = new AdminSession(Server);
        var token = AdminSession.Token(await session.GetHtmlAsync("/admin/login"));
        using var response = await session.PostFormAsync("/admin/login?returnUrl=https%3A%2F%2Fevil.example%2F",
            AdminSession.Form(("Username", ServerFixture.AdminUser), ("Password", ServerFixture.AdminPassword), ("__RequestVerificationToken", token)));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Post_WithoutAntiforgeryToken_IsRefused()
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        using var response = await session.PostFormAsync("/admin/dags/admin_http?handler=Pause", AdminSession.Form(("paused", "true")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var dag = await Admin.GetAsync("dags/admin_http").ExpectAsync(HttpStatusCode.OK);
        Assert.False(dag.GetProperty("paused").GetBoolean());

        using var withToken = await session.PostFormAsync("/admin/dags/admin_http?handler=Pause", AdminSession.Form(("paused", "true")), tokenFrom: "/admin/dags/admin_http");
        Assert.Equal(HttpStatusCode.Redirect, withToken.StatusCode);
        dag = await Admin.GetAsync("dags/admin_http").ExpectAsync(HttpStatusCode.OK);
        Assert.True(dag.GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task Viewer_SeesNoActions_AndIsRefusedThem()
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        await Server.CreateUserAsync("watcher", "viewer", "viewer-password");
        using var session = await AdminSession.SignedInAsync(Server, "watcher", "viewer-password");

        var list = await session.GetHtmlAsync("/admin/dags");
        Assert.Contains("admin_http", list);
        Assert.DoesNotContain("handler=Pause", list);
        Assert.DoesNotContain("handler=Trigger", list);
        Assert.DoesNotContain("/admin/users", list);

        foreach (var (path, fields) in new (string, Dictionary<string, string>)[]
                 {
                     ("/admin/dags/admin_http?handler=Pause", AdminSession.Form(("paused", "true"))),
                     ("/admin/dags/admin_http?handler=Trigger", AdminSession.Form(("conf", "{}"))),
                     ("/admin/dead-letters?handler=Requeue", AdminSession.Form(("id", "1"))),
                     ("/admin/variables?handler=Save", AdminSession.Form(("name", "v"), ("value", "1"))),
                     ("/admin/variables?handler=Delete", AdminSession.Form(("name", "v"))),
                 })
        {
            using var response = await session.PostFormAsync(path, fields, tokenFrom: "/admin/dags");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        Assert.False((await Admin.GetAsync("dags/admin_http").ExpectAsync(HttpStatusCode.OK)).GetProperty("paused").GetBoolean());
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from workers.variables"));
        // Viewers read variables (as in the API) but get no form to change them.
        var variables = await session.GetHtmlAsync("/admin/variables");
        Assert.DoesNotContain("handler=Save", variables);
        Assert.Equal(HttpStatusCode.Forbidden, (await session.GetAsync("/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await session.GetAsync("/admin/dags/new")).StatusCode);
    }

    [Fact]
    public async Task Operator_CanAct_ButNotAdminister()
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        await Server.CreateUserAsync("op", "operator", "operator-password");
        using var session = await AdminSession.SignedInAsync(Server, "op", "operator-password");
        Assert.Contains("handler=Trigger", await session.GetHtmlAsync("/admin/dags"));
        using var trigger = await session.PostFormAsync("/admin/dags/admin_http?handler=Trigger", AdminSession.Form(("conf", """{"x":1}""")), tokenFrom: "/admin/dags");
        Assert.Equal(HttpStatusCode.Redirect, trigger.StatusCode);
        Assert.StartsWith("/admin/runs/", trigger.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Forbidden, (await session.GetAsync("/admin/api-keys")).StatusCode);
        using var edit = await session.PostFormAsync("/admin/dags/admin_http/edit", AdminSession.Form(("Definition", Dag)), tokenFrom: "/admin/dags");
        Assert.Equal(HttpStatusCode.Forbidden, edit.StatusCode);
    }

    [Fact]
    public async Task Admin_ManagesUsers()
    {
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        using var created = await admin.PostFormAsync("/admin/users?handler=Create",
            AdminSession.Form(("username", "alice"), ("role", "viewer"), ("password", "alice-password")), tokenFrom: "/admin/users");
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        using var duplicate = await admin.PostFormAsync("/admin/users?handler=Create",
            AdminSession.Form(("username", "alice"), ("role", "viewer"), ("password", "alice-password")), tokenFrom: "/admin/users");
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Contains("already exists", await duplicate.Content.ReadAsStringAsync());
        using var weak = await admin.PostFormAsync("/admin/users?handler=Create",
            AdminSession.Form(("username", "bob"), ("role", "viewer"), ("password", "short")), tokenFrom: "/admin/users");
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("<code>password</code>", await weak.Content.ReadAsStringAsync());

        using var alice = await AdminSession.SignedInAsync(Server, "alice", "alice-password");
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync("/admin/users")).StatusCode);

        var users = await admin.GetHtmlAsync("/admin/users");
        var id = System.Text.RegularExpressions.Regex.Match(users, "<tr data-user=\"alice\">.*?name=\"id\" value=\"(\\d+)\"", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        using var promoted = await admin.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", "admin"), ("password", "")), tokenFrom: "/admin/users");
        Assert.Equal(HttpStatusCode.Redirect, promoted.StatusCode);
        // A changed role ends her sessions (SessionTests); signed in again, she has it.
        Assert.Equal(HttpStatusCode.Redirect, (await alice.GetAsync("/admin/users")).StatusCode);
        using (var signedIn = await alice.SignInAsync("alice", "alice-password"))
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/admin/users")).StatusCode);

        using var deleted = await admin.PostFormAsync("/admin/users?handler=Delete", AdminSession.Form(("id", id)), tokenFrom: "/admin/users");
        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await alice.GetAsync("/admin")).StatusCode); // signed out on the next request
        using var again = await alice.SignInAsync("alice", "alice-password");
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
    }

    [Fact]
    public async Task Grid_RendersLastRunsByTasks()
    {
        await Admin.PostJsonAsync("dags", """{"name":"grid","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Admin.TriggerAsync("grid");
        await Admin.WaitForRunAsync(run);
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var html = await session.GetHtmlAsync("/admin/dags/grid");
        Assert.Contains("data-testid=\"grid\"", html);
        Assert.Contains("title=\"b · run " + run + ": success\"", html);
        Assert.Contains("data-task=\"a\" data-state=\"success\"", html);
        var runPage = await session.GetHtmlAsync($"/admin/runs/{run}");
        Assert.Contains("data-testid=\"gantt\"", runPage);
    }
}
