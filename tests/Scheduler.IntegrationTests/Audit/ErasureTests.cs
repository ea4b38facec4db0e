using System.Net;
using Npgsql;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Audit;

/// <summary>After erasure the person's name is nowhere in the database: every text and JSON column of every table is searched.</summary>
public sealed class ErasureTests(ServerFixture server) : ServerTest(server)
{
    private const string Person = "zoezelda";
    private const string Password = "zoe-zelda-password";

    /// <summary>"schema.table.column: count" of every text, varchar and json(b) column holding <paramref name="needle"/>.</summary>
    private static async Task<List<string>> WhereIsAsync(string needle)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        var columns = new List<(string Schema, string Table, string Column)>();
        await using (var cmd = new NpgsqlCommand("""
            select c.table_schema, c.table_name, c.column_name from information_schema.columns c
            join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
            where c.table_schema not in ('pg_catalog', 'information_schema')
              and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'xml')
            """, connection))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        Assert.Contains(("audit", "entries", "actor_name"), columns);
        Assert.Contains(("runs", "dag_runs", "created_by"), columns);
        var found = new List<string>();
        foreach (var (schema, table, column) in columns)
        {
            await using var cmd = new NpgsqlCommand($"select count(*) from \"{schema}\".\"{table}\" where strpos(\"{column}\"::text, @n) > 0", connection);
            cmd.Parameters.AddWithValue("n", needle);
            if ((long)(await cmd.ExecuteScalarAsync())! is var n and > 0)
                found.Add($"{schema}.{table}.{column}: {n}");
        }
        return found;
    }

    [Fact]
    public async Task Erase_PseudonymisesThePersonEverywhere_AndDeletesTheAccount()
    {
        await Server.CreateUserAsync(Person, "admin", Password);
        await Admin.PostJsonAsync("dags", """{"name":"erasable","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        using (var wrong = new AdminSession(Server))
        using (var refused = await wrong.SignInAsync(Person, "not-the-password"))
            Assert.NotEqual(HttpStatusCode.Redirect, refused.StatusCode);
        string key;
        using (var session = await AdminSession.SignedInAsync(Server, Person, Password))
        {
            using (var edit = await session.PostFormAsync("/admin/dags/erasable/edit",
                       AdminSession.Form(("Definition", """{"name":"erasable","tasks":[{"id":"a"},{"id":"b"}]}""")), tokenFrom: "/admin/dags/erasable/edit"))
                Assert.Equal(HttpStatusCode.Redirect, edit.StatusCode);
            using (var trigger = await session.PostFormAsync("/admin/dags/erasable?handler=Trigger", AdminSession.Form(("conf", "{}")), tokenFrom: "/admin/dags/erasable"))
                Assert.Equal(HttpStatusCode.Redirect, trigger.StatusCode);
            using (var created = await session.PostFormAsync("/admin/users?handler=Create",
                       AdminSession.Form(("username", "newcomer"), ("role", "viewer"), ("password", "newcomer-password")), tokenFrom: "/admin/users"))
                Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
            using var page = await session.PostFormAsync("/admin/api-keys?handler=Create", AdminSession.Form(("name", "ci"), ("role", "viewer")), tokenFrom: "/admin/api-keys");
            key = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "data-testid=\"new-key\">(sk_[^<]+)<").Groups[1].Value;
        }
        Assert.NotEmpty(await WhereIsAsync(Person));
        Assert.NotEmpty(await Admin.AuditAsync("actor=" + Person));

        var erased = await Admin.PostAsync($"users/{Person}/erase", null).ExpectAsync(HttpStatusCode.OK);
        var pseudonym = erased.GetProperty("pseudonym").GetString()!;
        Assert.StartsWith("erased-", pseudonym);
        Assert.DoesNotContain(Person, pseudonym);

        Assert.Empty(await WhereIsAsync(Person));
        // What happened is kept, under the pseudonym: the sign-ins, the edit, the trigger, the
        // user and key created, the failed sign-in, and the erasure itself.
        var theirs = (await Admin.AuditAsync("actor=" + pseudonym)).Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("user.login", theirs);
        Assert.Contains("user.login_failed", theirs);
        Assert.Contains("dag.update", theirs);
        Assert.Contains("run.trigger", theirs);
        Assert.Contains("user.create", theirs);
        Assert.Contains("api_key.create", theirs);
        var entry = await Admin.OneAsync("user.erase", "user/" + pseudonym);
        entry.AssertByBootstrapKey();
        Assert.Equal(pseudonym, entry.GetProperty("details").GetProperty("pseudonym").GetString());
        Assert.Equal(1, entry.GetProperty("details").GetProperty("revoked_keys").GetInt32());
        Assert.Equal(pseudonym, await TestDatabase.ScalarAsync<string>("select created_by from runs.dag_runs where dag_name = 'erasable'"));
        Assert.Equal(pseudonym, await TestDatabase.ScalarAsync<string>("select created_by from access.users where username = 'newcomer'"));

        // The account is gone: no sign-in, its key revoked, a second erasure finds nobody.
        using (var again = new AdminSession(Server))
        using (var refused = await again.SignInAsync(Person, Password))
            Assert.NotEqual(HttpStatusCode.Redirect, refused.StatusCode);
        using (var client = Server.NewClient(key))
            await client.GetAsync("dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        await Admin.PostAsync($"users/{Person}/erase", null).ExpectProblemAsync(HttpStatusCode.NotFound);
        // The failed sign-in just now wrote the name again, as any attempt under any name does.
        Assert.Equal(["audit.entries.actor_name: 1", "audit.entries.target: 1"], await WhereIsAsync(Person));
    }

    [Fact]
    public async Task Erase_RefusesTheLastAdmin_AndNeedsAnAdmin()
    {
        await Admin.PostAsync($"users/{ServerFixture.AdminUser}/erase", null).ExpectProblemAsync(HttpStatusCode.Conflict);
        await Operator.PostAsync($"users/{ServerFixture.AdminUser}/erase", null).ExpectProblemAsync(HttpStatusCode.Forbidden);
        Assert.Empty(await Admin.AuditAsync("action=user.erase"));
    }
}
