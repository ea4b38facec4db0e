using System.Net;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Access;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.IntegrationTests.Audit;

/// <summary>The trail itself: same transaction as the change, append-only, filters and paging, retention, its page.</summary>
public sealed class AuditLogTests(ServerFixture server) : ServerTest(server)
{
    /// <summary>The writer in a change's transaction that rolls back: neither the change nor its entry remains.</summary>
    [Fact]
    public async Task RolledBackChange_LeavesNoEntry()
    {
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AccessDbContext>();
            var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
            await using var tx = await db.Database.BeginTransactionAsync();
            db.Users.Add(new User { Username = "ghost", Role = "viewer", PasswordHash = "x", SecurityStamp = "s" });
            await audit.SaveChangesAsync(db, "user.create", AuditTargets.User("ghost"), null, CancellationToken.None);
            Assert.Equal(1L, await CountInAsync(db, "user/ghost"));
            await tx.RollbackAsync();
        }
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from access.users where username = 'ghost'"));
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from audit.entries where target = 'user/ghost'"));

        // Refused over HTTP: a DAG with an active run is not deleted, and no dag.delete appears.
        await Admin.PostJsonAsync("dags", """{"name":"busy","tasks":[{"id":"s","type":"shell","command":"sleep 30"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("busy");
        await Admin.DeleteAsync("dags/busy").ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Empty(await Admin.AuditAsync("action=dag.delete"));
        // A duplicate create fails on the unique key: one dag.create, the winner's.
        await Admin.PostJsonAsync("dags", """{"name":"busy","tasks":[{"id":"s"}]}""").ExpectProblemAsync(HttpStatusCode.Conflict);
        await Admin.OneAsync("dag.create", "dag/busy");
        await Admin.PostAsync($"runs/{runId}/cancel", null).ExpectAsync(HttpStatusCode.OK);
    }

    private static async Task<long> CountInAsync(AccessDbContext db, string target)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await using var cmd = new NpgsqlCommand("select count(*) from audit.entries where target = @t", connection, (NpgsqlTransaction)db.Database.CurrentTransaction!.GetDbTransaction());
        cmd.Parameters.AddWithValue("t", target);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Entries_CannotBeChangedOrDeleted()
    {
        await Admin.PostJsonAsync("dags", """{"name":"kept","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        foreach (var sql in new[] { "update audit.entries set actor_name = 'someone else'", "delete from audit.entries", "truncate audit.entries" })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => TestDatabase.ScalarAsync<object>(sql));
            Assert.Contains("append-only", e.MessageText);
        }
        await Admin.OneAsync("dag.create", "dag/kept");
    }

    [Fact]
    public async Task List_Filters_AndPages()
    {
        foreach (var name in new[] { "f1", "f2", "f3" })
            await Admin.PostJsonAsync("dags", $$"""{"name":"{{name}}","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Operator.PostAsync("dags/f1/pause", null).ExpectAsync(HttpStatusCode.OK);
        var runId = await Operator.TriggerAsync("f1");
        await Admin.WaitForRunAsync(runId);

        Assert.Equal(3, (await Admin.AuditAsync("action=dag.create")).Count);
        Assert.Equal(4, (await Admin.AuditAsync("action=dag.*")).Count);
        Assert.Equal(["dag.create", "dag.pause", "run.trigger"], (await Admin.AuditAsync("target=dag/f1")).Select(e => e.GetProperty("action").GetString()));
        Assert.Empty(await Admin.AuditAsync("target=dag/f"));
        Assert.Equal(["dag.pause", "run.trigger"], (await Admin.AuditAsync("actor=test-operator")).Select(e => e.GetProperty("action").GetString()));
        var all = await Admin.AuditAsync();
        var middle = all.First(e => e.GetProperty("action").GetString() == "dag.pause").GetProperty("at").GetString()!;
        Assert.All(await Admin.AuditAsync("since=" + Uri.EscapeDataString(middle)), e => Assert.True(string.CompareOrdinal(e.GetProperty("at").GetString(), middle) >= 0));
        Assert.DoesNotContain(await Admin.AuditAsync("until=" + Uri.EscapeDataString(middle)), e => e.GetProperty("action").GetString() == "run.trigger");

        // Newest first, two a page, every entry once.
        var seen = new List<long>();
        string? cursor = null;
        do
        {
            var page = await Admin.GetAsync("audit?action=dag.*&limit=2" + (cursor is null ? "" : "&cursor=" + cursor)).ExpectAsync(HttpStatusCode.OK);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(4, seen.Count);
        Assert.Equal(seen.OrderDescending(), seen);

        Assert.Contains("cursor", (await Admin.GetAsync("audit?cursor=not-a-cursor").ExpectProblemAsync(HttpStatusCode.BadRequest)).GetRawText());
        await Admin.GetAsync("audit?limit=0").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Admin.GetAsync("audit?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Admin.GetAsync("audit?since=yesterday").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Operator.GetAsync("audit").ExpectProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Retention_RemovesOnlyOldEntries()
    {
        await Admin.PostJsonAsync("dags", """{"name":"recent","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await TestDatabase.ScalarAsync<object>("""
            insert into audit.entries (at, actor_kind, actor_name, action, target) values
                (now() - interval '401 days', 'system', 'system', 'dag.create', 'dag/ancient'),
                (now() - interval '399 days', 'system', 'system', 'dag.create', 'dag/old')
            """);
        await using (var scope = Server.Services.CreateAsyncScope())
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<ISender>().Send(new PurgeAuditHistory()));
        Assert.Equal(["dag/old", "dag/recent"], (await Admin.AuditAsync("action=dag.create")).Select(e => e.GetProperty("target").GetString()).Order());
    }

    [Fact]
    public async Task AdminPage_FiltersLikeTheApi_AndTheDagPageLinksToItsHistory()
    {
        await Admin.PostJsonAsync("dags", """{"name":"shown","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"hidden","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        using var admin = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        Assert.Contains("href=\"/admin/audit?target=dag%2Fshown\"", await admin.GetHtmlAsync("/admin/dags/shown"));
        var html = await admin.GetHtmlAsync("/admin/audit?target=dag%2Fshown");
        Assert.Contains("dag.create", html);
        Assert.Contains("dag/shown", html);
        Assert.DoesNotContain("dag/hidden", html);
        Assert.Contains("user.login", await admin.GetHtmlAsync("/admin/audit?action=user.*"));
        Assert.Contains("cursor", await admin.GetHtmlAsync("/admin/audit?cursor=garbage"));

        await Server.CreateUserAsync("watcher", "operator", "watcher-password");
        using var op = await AdminSession.SignedInAsync(Server, "watcher", "watcher-password");
        using var refused = await op.GetAsync("/admin/audit");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain("href=\"/admin/audit", await op.GetHtmlAsync("/admin/dags/shown"));
    }
}
