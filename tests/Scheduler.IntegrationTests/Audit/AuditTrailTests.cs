using System.Net;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Audit;

/// <summary>Every action of the contract leaves one entry with its actor, target and details (never a secret), through the REST API.</summary>
public sealed class AuditTrailTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task DagActions_AreAudited()
    {
        await Admin.PostJsonAsync("dags", """{"name":"audited","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/audited", """{"name":"audited","tasks":[{"id":"a"},{"id":"b"}]}""").ExpectAsync(HttpStatusCode.OK);
        // An identical definition changes nothing and is not an update.
        await Admin.PutJsonAsync("dags/audited", """{"name":"audited","tasks":[{"id":"a"},{"id":"b"}]}""").ExpectAsync(HttpStatusCode.OK);
        await Operator.PostAsync("dags/audited/pause", null).ExpectAsync(HttpStatusCode.OK);
        await Operator.PostAsync("dags/audited/pause", null).ExpectAsync(HttpStatusCode.OK);
        await Operator.PostAsync("dags/audited/unpause", null).ExpectAsync(HttpStatusCode.OK);
        await Admin.DeleteAsync("dags/audited").ExpectAsync(HttpStatusCode.NoContent);

        var entries = await Admin.AuditAsync("target=dag/audited");
        Assert.Equal(["dag.create", "dag.update", "dag.pause", "dag.unpause", "dag.delete"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.All(entries, e => Assert.Equal("dag/audited", e.GetProperty("target").GetString()));
        entries[0].AssertByBootstrapKey();
        Assert.Equal(1, entries[0].GetProperty("details").GetProperty("version").GetInt32());
        var update = entries[1].GetProperty("details");
        Assert.Equal(2, update.GetProperty("version").GetInt32());
        Assert.NotEqual(update.GetProperty("before_hash").GetString(), update.GetProperty("after_hash").GetString());
        Assert.Equal("api_key", entries[2].ActorKind());
        Assert.Equal("test-operator", entries[2].ActorName());
        entries[4].AssertByBootstrapKey();
    }

    [Fact]
    public async Task RunActions_AreAudited()
    {
        await Admin.PostJsonAsync("dags", """{"name":"ops","tasks":[{"id":"a","type":"shell","command":"exit 3"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("ops", """{"conf":{"region":"eu"}}""");
        await Admin.WaitForRunAsync(runId);

        var trigger = await Admin.OneAsync("run.trigger", "dag/ops");
        Assert.Equal("test-operator", trigger.ActorName());
        Assert.Equal(runId, trigger.GetProperty("details").GetProperty("run_id").GetInt64());
        Assert.Equal(["region"], trigger.GetProperty("details").GetProperty("conf_keys").EnumerateArray().Select(k => k.GetString()));

        await Operator.PostJsonAsync($"runs/{runId}/tasks/a/mark", """{"state":"success"}""").ExpectAsync(HttpStatusCode.OK);
        var mark = await Admin.OneAsync("task.mark", $"run/{runId}/task/a");
        Assert.Equal("success", mark.GetProperty("details").GetProperty("state").GetString());

        await Operator.PostAsync($"runs/{runId}/tasks/a/clear?downstream=true", null).ExpectAsync(HttpStatusCode.OK);
        var clear = await Admin.OneAsync("task.clear", $"run/{runId}/task/a");
        Assert.True(clear.GetProperty("details").GetProperty("downstream").GetBoolean());
        Assert.Equal(["a", "b"], clear.GetProperty("details").GetProperty("cleared").EnumerateArray().Select(t => t.GetString()));
        await Admin.WaitForRunAsync(runId);

        var letter = (await Admin.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("id").GetInt64();
        await Operator.PostAsync($"dead-letters/{letter}/requeue", null).ExpectAsync(HttpStatusCode.OK);
        var requeue = await Admin.OneAsync("dead_letter.requeue", $"dead_letter/{letter}");
        Assert.Equal(runId, requeue.GetProperty("details").GetProperty("run_id").GetInt64());
        // A refused requeue (already requeued) leaves nothing.
        await Operator.PostAsync($"dead-letters/{letter}/requeue", null).ExpectProblemAsync(HttpStatusCode.Conflict);
        await Admin.OneAsync("dead_letter.requeue", $"dead_letter/{letter}");

        await Admin.PostJsonAsync("dags", """{"name":"long","tasks":[{"id":"s","type":"shell","command":"sleep 30"}]}""").ExpectAsync(HttpStatusCode.Created);
        var longRun = await Admin.TriggerAsync("long");
        await Operator.PostAsync($"runs/{longRun}/cancel", null).ExpectAsync(HttpStatusCode.OK);
        await Operator.PostAsync($"runs/{longRun}/cancel", null).ExpectProblemAsync(HttpStatusCode.Conflict);
        var cancel = await Admin.OneAsync("run.cancel", $"run/{longRun}");
        Assert.Equal("test-operator", cancel.ActorName());
    }

    [Fact]
    public async Task KeyConnectionAndChannelActions_AreAudited_WithoutSecrets()
    {
        const string password = "pg-Secret-Pass-0451";
        const string hook = "https://hooks.slack.example/services/T000/B000/very-secret-path";
        var key = await Admin.PostJsonAsync("api-keys", """{"name":"ci","role":"viewer"}""").ExpectAsync(HttpStatusCode.Created);
        var keyId = key.GetProperty("id").GetInt64();
        await Admin.DeleteAsync($"api-keys/{keyId}").ExpectAsync(HttpStatusCode.NoContent);
        var created = await Admin.OneAsync("api_key.create", $"api_key/{keyId}");
        Assert.Equal("ci", created.GetProperty("details").GetProperty("name").GetString());
        Assert.Equal("viewer", created.GetProperty("details").GetProperty("role").GetString());
        await Admin.OneAsync("api_key.revoke", $"api_key/{keyId}");

        var connection = $"Host=127.0.0.1;Database=x;Username=u;Password={password}";
        await Admin.PostJsonAsync("connections", new { name = "sales", kind = "postgres", connection_string = connection }).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("connections/sales", $$"""{"kind":"postgres","description":"the sales db","connection_string":"{{connection}}"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PutJsonAsync("connections/sales", $$"""{"kind":"postgres","description":"the sales db","connection_string":"{{connection}}x"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.DeleteAsync("connections/sales").ExpectAsync(HttpStatusCode.NoContent);
        var connections = await Admin.AuditAsync("action=connection.*");
        Assert.Equal(["connection.create", "connection.update", "connection.update", "connection.delete"], connections.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(["kind", "description", "connection_string"], connections[0].Changed());
        Assert.Equal(["description"], connections[1].Changed());
        Assert.Equal(["connection_string"], connections[2].Changed());
        connections[3].AssertByBootstrapKey();

        await Admin.PostJsonAsync("channels", $$"""{"name":"ops","type":"slack","settings":{"webhook_url":"{{hook}}"} }""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("channels/ops", $$"""{"type":"slack","settings":{"webhook_url":"{{hook}}2"} }""").ExpectAsync(HttpStatusCode.OK);
        await Admin.DeleteAsync("channels/ops").ExpectAsync(HttpStatusCode.NoContent);
        var channels = await Admin.AuditAsync("action=channel.*");
        Assert.Equal(["channel.create", "channel.update", "channel.delete"], channels.Select(e => e.GetProperty("action").GetString()));
        Assert.Contains("settings.webhook_url", channels[0].Changed());
        Assert.Equal(["settings.webhook_url"], channels[1].Changed());

        var everything = string.Join("\n", (await Admin.AuditAsync()).Select(e => e.GetRawText()));
        Assert.DoesNotContain(password, everything);
        Assert.DoesNotContain("very-secret-path", everything);
        Assert.DoesNotContain(key.GetProperty("key").GetString()!, everything);
        // Nor in the table itself, whatever the API shows of it.
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from audit.entries where details::text like '%' || @p || '%' or target like '%' || @p || '%'", ("p", password)));
    }

    [Fact]
    public async Task MonitorActions_AreAudited()
    {
        await Admin.PostJsonAsync("monitors", """{"name":"nightly","interval":"PT1H"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("monitors/nightly", """{"interval":"PT2H","description":"backup"}""").ExpectAsync(HttpStatusCode.OK);
        await Operator.PostAsync("monitors/nightly/pause", null).ExpectAsync(HttpStatusCode.OK);
        await Operator.PostAsync("monitors/nightly/unpause", null).ExpectAsync(HttpStatusCode.OK);
        var token = (await Admin.PostAsync("monitors/nightly/token", null).ExpectAsync(HttpStatusCode.OK)).GetProperty("token").GetString()!;
        await Admin.DeleteAsync("monitors/nightly").ExpectAsync(HttpStatusCode.NoContent);
        var entries = await Admin.AuditAsync("target=monitor/nightly");
        Assert.Equal(["monitor.create", "monitor.update", "monitor.pause", "monitor.unpause", "monitor.token", "monitor.delete"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(["description", "interval"], entries[1].Changed());
        Assert.DoesNotContain(token, string.Join("\n", entries.Select(e => e.GetRawText())));
    }

    [Fact]
    public async Task UserActions_InThePages_AreAudited_ByTheSignedInUser()
    {
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var login = await Admin.OneAsync("user.login", "user/" + ServerFixture.AdminUser);
        Assert.Equal("user", login.ActorKind());
        Assert.Equal(ServerFixture.AdminUser, login.ActorName());

        using (var created = await admin.PostFormAsync("/admin/users?handler=Create",
                   AdminSession.Form(("username", "alice"), ("role", "viewer"), ("password", "alice-password")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var id = await AdminSession.UserIdAsync("alice");
        using (var promoted = await admin.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", "operator"), ("password", "")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, promoted.StatusCode);
        using (var password = await admin.PostFormAsync("/admin/users?handler=Update", AdminSession.Form(("id", id), ("role", "operator"), ("password", "alice-new-password")), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);

        using (var wrong = new AdminSession(Server))
        using (var refused = await wrong.SignInAsync("alice", "not-her-password"))
            Assert.NotEqual(HttpStatusCode.Redirect, refused.StatusCode);
        using (var nobody = new AdminSession(Server))
        using (var refused = await nobody.SignInAsync("mallory", "whatever-password"))
            Assert.NotEqual(HttpStatusCode.Redirect, refused.StatusCode);

        using (var deleted = await admin.PostFormAsync("/admin/users?handler=Delete", AdminSession.Form(("id", id)), tokenFrom: "/admin/users"))
            Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);

        var entries = await Admin.AuditAsync("target=user/alice");
        Assert.Equal(["user.create", "user.update", "user.update", "user.login_failed", "user.delete"], entries.Select(e => e.GetProperty("action").GetString()));
        foreach (var e in entries.Where(e => e.GetProperty("action").GetString() != "user.login_failed"))
        {
            Assert.Equal("user", e.ActorKind());
            Assert.Equal(ServerFixture.AdminUser, e.ActorName());
            Assert.Equal("127.0.0.1", e.GetProperty("ip").GetString());
        }
        Assert.Equal(["role"], entries[1].Changed());
        Assert.Equal(["password"], entries[2].Changed());
        Assert.Equal("alice", entries[3].ActorName());
        Assert.True(entries[3].GetProperty("details").GetProperty("known_user").GetBoolean());
        var unknown = await Admin.OneAsync("user.login_failed", "user/mallory");
        Assert.False(unknown.GetProperty("details").GetProperty("known_user").GetBoolean());
        Assert.DoesNotContain("alice-new-password", string.Join("\n", entries.Select(e => e.GetRawText())));
    }

    [Fact]
    public async Task PageActions_AreAudited_ByTheSignedInUser()
    {
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await Admin.PostJsonAsync("dags", """{"name":"paged","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        using (var pause = await admin.PostFormAsync("/admin/dags/paged?handler=Pause", AdminSession.Form(("paused", "true")), tokenFrom: "/admin/dags/paged"))
            Assert.True(pause.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.OK, $"{(int)pause.StatusCode}");
        var entry = await Admin.OneAsync("dag.pause", "dag/paged");
        Assert.Equal("user", entry.ActorKind());
        Assert.Equal(ServerFixture.AdminUser, entry.ActorName());

        using (var key = await admin.PostFormAsync("/admin/api-keys?handler=Create", AdminSession.Form(("name", "from-page"), ("role", "viewer")), tokenFrom: "/admin/api-keys"))
            Assert.Equal(HttpStatusCode.OK, key.StatusCode);
        var created = (await Admin.AuditAsync("action=api_key.create")).Single(e => e.GetProperty("details").GetProperty("name").GetString() == "from-page");
        Assert.Equal("user", created.ActorKind());
    }
}
