using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>The pages' actions over plain HTTP (forms with the antiforgery token), checked through the API.</summary>
public sealed class AdminActionTests(ServerFixture server) : ServerTest(server)
{
    private static Dictionary<string, string> Form(params (string Key, string Value)[] fields) => fields.ToDictionary(f => f.Key, f => f.Value);

    private Task<AdminSession> AdminAsync() => AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);

    [Fact]
    public async Task RunPage_ClearsMarksAndCancels()
    {
        await Admin.PostJsonAsync("dags", """{"name":"ops","tasks":[{"id":"a","type":"shell","command":"exit 3"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("ops");
        await Admin.WaitForRunAsync(runId);
        using var session = await AdminAsync();
        var page = $"/admin/runs/{runId}";
        var html = await session.GetHtmlAsync(page + "?task=a");
        Assert.Contains("data-testid=\"log\"", html);

        using (var mark = await session.PostFormAsync(page + "?handler=Mark", Form(("task", "a"), ("state", "success")), tokenFrom: page))
            Assert.Equal(HttpStatusCode.Redirect, mark.StatusCode);
        var run = await Admin.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("success", RunHelpers.State(run, "a"));

        using (var clear = await session.PostFormAsync(page + "?handler=Clear", Form(("task", "a"), ("downstream", "true")), tokenFrom: page))
            Assert.Equal(HttpStatusCode.Redirect, clear.StatusCode);
        run = await Admin.WaitForRunAsync(runId);
        Assert.Equal("failed", RunHelpers.State(run, "a"));
        Assert.Equal(2, RunHelpers.Task(run, "a").GetProperty("attempt").GetInt32());

        await Admin.PostJsonAsync("dags", """{"name":"long","tasks":[{"id":"s","type":"shell","command":"sleep 30"}]}""").ExpectAsync(HttpStatusCode.Created);
        var longRun = await Admin.TriggerAsync("long");
        await Admin.WaitForTaskAsync(longRun, "s", "running");
        using (var cancel = await session.PostFormAsync($"/admin/runs/{longRun}?handler=Cancel", Form(), tokenFrom: $"/admin/runs/{longRun}"))
            Assert.Equal(HttpStatusCode.Redirect, cancel.StatusCode);
        Assert.Equal("cancelled", (await Admin.WaitForRunAsync(longRun)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task DeadLettersPage_Requeues()
    {
        await Admin.PostJsonAsync("dags", """{"name":"dead","tasks":[{"id":"t","type":"shell","command":"exit 1"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("dead");
        await Admin.WaitForRunAsync(runId);
        var letter = (await Admin.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("id").GetInt64();
        using var session = await AdminAsync();
        Assert.Contains($"href=\"/admin/runs/{runId}\"", await session.GetHtmlAsync("/admin/dead-letters"));
        using var requeue = await session.PostFormAsync("/admin/dead-letters?handler=Requeue", Form(("id", letter.ToString())), tokenFrom: "/admin/dead-letters");
        Assert.Equal(HttpStatusCode.Redirect, requeue.StatusCode);
        var run = await Admin.WaitForRunAsync(runId);
        Assert.Equal(2, RunHelpers.Task(run, "t").GetProperty("attempt").GetInt32());
        Assert.Contains("requeued", await session.GetHtmlAsync("/admin/dead-letters?all=true"));
    }

    /// <summary>Text PostgreSQL refuses, typed into a page: the field is named, nothing is stored, never a 500.</summary>
    [Fact]
    public async Task Pages_RefuseNul_InAFormField_AndInTheJsonTheyTakeAsText()
    {
        await Admin.PostJsonAsync("dags", """{"name":"nul","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        using var session = await AdminAsync();
        using (var edit = await session.PostFormAsync("/admin/dags/nul/edit",
            Form(("Definition", """{"name":"nul","description":"a\u0000b","tasks":[{"id":"a"}]}""")), tokenFrom: "/admin/dags/nul/edit"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, edit.StatusCode);
            var html = await edit.Content.ReadAsStringAsync();
            Assert.Contains("<code>description</code>", html);
            Assert.Contains("(NUL)", html);
        }
        using (var trigger = await session.PostFormAsync("/admin/dags/nul?handler=Trigger", Form(("conf", """{"x":"\u0000"}""")), tokenFrom: "/admin/dags/nul"))
            Assert.Equal(HttpStatusCode.Redirect, trigger.StatusCode);
        Assert.Contains("conf: x:", await session.GetHtmlAsync("/admin/dags/nul"));
        using (var key = await session.PostFormAsync("/admin/api-keys?handler=Create", Form(("name", "a\0b"), ("role", "viewer")), tokenFrom: "/admin/api-keys"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, key.StatusCode);
            Assert.Equal("application/problem+json", key.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(*) from dags.dag_versions"));
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from runs.dag_runs"));
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from access.api_keys where name like 'a%b'"));
    }

    [Fact]
    public async Task ConnectionsPage_NeverShowsTheSecret()
    {
        using var session = await AdminAsync();
        const string secret = "Host=db.example;Database=sales;Username=u;Password=very-secret-pw";
        using var save = await session.PostFormAsync("/admin/connections?handler=Save",
            Form(("name", "sales"), ("kind", "postgres"), ("description", "sales db"), ("connectionString", secret)), tokenFrom: "/admin/connections");
        Assert.Equal(HttpStatusCode.Redirect, save.StatusCode);
        var html = await session.GetHtmlAsync("/admin/connections");
        Assert.Contains("db.example", html);
        Assert.DoesNotContain("very-secret-pw", html);
        using var bad = await session.PostFormAsync("/admin/connections?handler=Save",
            Form(("name", "broken"), ("kind", "postgres"), ("connectionString", "not a connection string")), tokenFrom: "/admin/connections");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("<code>connection_string</code>", await bad.Content.ReadAsStringAsync());
        using var delete = await session.PostFormAsync("/admin/connections?handler=Delete", Form(("name", "sales")), tokenFrom: "/admin/connections");
        Assert.Equal(HttpStatusCode.Redirect, delete.StatusCode);
        await Admin.GetAsync("connections/sales").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ApiKeysPage_ShowsANewKeyOnce_AndRevokes()
    {
        using var session = await AdminAsync();
        using var create = await session.PostFormAsync("/admin/api-keys?handler=Create", Form(("name", "ci"), ("role", "operator")), tokenFrom: "/admin/api-keys");
        Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        var html = await create.Content.ReadAsStringAsync();
        var key = System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"new-key\">(sk_[^<]+)<").Groups[1].Value;
        using var client = Server.NewClient(key);
        await client.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(key, await session.GetHtmlAsync("/admin/api-keys"));

        var id = System.Text.RegularExpressions.Regex.Match(html, "<td>(\\d+)</td><td>ci</td>").Groups[1].Value;
        using var revoke = await session.PostFormAsync("/admin/api-keys?handler=Revoke", Form(("id", id)), tokenFrom: "/admin/api-keys");
        Assert.Equal(HttpStatusCode.Redirect, revoke.StatusCode);
        await client.GetAsync("dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
    }
}
