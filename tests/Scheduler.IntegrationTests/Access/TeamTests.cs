using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>Teams (docs/operations.md, Teams): the endpoints, roles on keys, and the team field of DAGs.</summary>
public sealed class TeamTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Teams_CreateUpdateListGetDelete_WriteAudit()
    {
        await Admin.PutJsonAsync("teams/payments", """{"description":"Payments"}""").ExpectAsync(HttpStatusCode.Created);
        var updated = await Admin.PutJsonAsync("teams/payments", """{"description":"Payments team"}""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("Payments team", updated.GetProperty("description").GetString());
        var list = await Viewer.GetAsync("teams").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("payments", list.GetProperty("items")[0].GetProperty("name").GetString());
        await Viewer.GetAsync("teams/payments").ExpectAsync(HttpStatusCode.OK);
        await Viewer.GetAsync("teams/nope").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Operator.PutJsonAsync("teams/x", "{}").ExpectProblemAsync(HttpStatusCode.Forbidden);
        var bad = await Admin.PutJsonAsync("teams/bad%20name", "{}").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(bad.Errors("name"));

        await Admin.PutJsonAsync("dags/pay_dag", TeamHelpers.Dag("pay_dag", "payments")).ExpectAsync(HttpStatusCode.Created);
        var conflict = await Admin.DeleteAsync("teams/payments").ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("dags", conflict.GetProperty("detail").GetString());
        await Admin.DeleteAsync("dags/pay_dag").ExpectAsync(HttpStatusCode.NoContent);
        await Admin.DeleteAsync("teams/payments").ExpectAsync(HttpStatusCode.NoContent);
        await Admin.DeleteAsync("teams/payments").ExpectProblemAsync(HttpStatusCode.NotFound);

        var audit = await Admin.GetAsync("audit?target=team/payments").ExpectAsync(HttpStatusCode.OK);
        var actions = audit.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).Order().ToList();
        Assert.Equal(["team.create", "team.delete", "team.update"], actions);
    }

    [Fact]
    public async Task UnknownTeam_Is400KeyedByField()
    {
        var dag = await Admin.PutJsonAsync("dags/d", TeamHelpers.Dag("d", "ghosts")).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(dag.Errors("team"));
        var key = await Admin.PostJsonAsync("api-keys", """{"name":"k","roles":{"ghosts":"viewer"}}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(key.Errors("roles.ghosts"));
        await Server.CreateTeamAsync("real");
        var role = await Admin.PostJsonAsync("api-keys", """{"name":"k","roles":{"real":"root"}}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(role.Errors("roles.real"));
        var none = await Admin.PostJsonAsync("api-keys", """{"name":"k"}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(none.Errors("role"));
    }

    [Fact]
    public async Task TeamOnlyKey_ListsShowsRoles_AndHasNoGlobalAccess()
    {
        await Server.CreateTeamAsync("ops");
        var created = await Admin.PostJsonAsync("api-keys", """{"name":"ops-key","roles":{"ops":"operator"}}""").ExpectAsync(HttpStatusCode.Created);
        Assert.False(created.TryGetProperty("role", out _));
        Assert.Equal("operator", created.GetProperty("roles").GetProperty("ops").GetString());
        var keys = await Admin.GetAsync("api-keys").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(keys.GetProperty("items").EnumerateArray(), k => k.GetProperty("roles").TryGetProperty("ops", out var r) && r.GetString() == "operator");
        using var ops = Server.NewClient(created.GetProperty("key").GetString());
        // Global endpoints need a global role.
        await ops.GetAsync("workers").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await ops.GetAsync("audit").ExpectProblemAsync(HttpStatusCode.Forbidden);
        // Team-scoped lists answer, with only the team's objects.
        var teams = await ops.GetAsync("teams").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["ops"], teams.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("name").GetString()!));
        await Admin.PutJsonAsync("dags/global_dag", TeamHelpers.Dag("global_dag", null)).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/ops_dag", TeamHelpers.Dag("ops_dag", "ops")).ExpectAsync(HttpStatusCode.Created);
        var dags = await ops.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["ops_dag"], dags.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("name").GetString()!));
        await ops.GetAsync("dags/global_dag").ExpectProblemAsync(HttpStatusCode.NotFound);
        var dag = await ops.GetAsync("dags/ops_dag").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("ops", dag.GetProperty("team").GetString());
        Assert.Equal("ops", dag.GetProperty("definition").GetProperty("team").GetString());
        // Operator in the team: may pause, may not change or create (admin on the team needed).
        await ops.PostAsync("dags/ops_dag/pause", null).ExpectAsync(HttpStatusCode.OK);
        await ops.PutJsonAsync("dags/ops_dag", TeamHelpers.Dag("ops_dag", "ops", "false")).ExpectProblemAsync(HttpStatusCode.Forbidden);
        await ops.PostJsonAsync("dags", TeamHelpers.Dag("ops_new", "ops")).ExpectProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TeamAdmin_CreatesInOwnTeamOnly_AndCannotMoveOut()
    {
        await Server.CreateTeamAsync("a");
        await Server.CreateTeamAsync("b");
        using var adminA = await Server.TeamClientAsync("admin-a", new() { ["a"] = "admin" });
        await adminA.PostJsonAsync("dags", TeamHelpers.Dag("a1", "a")).ExpectAsync(HttpStatusCode.Created);
        await adminA.PostJsonAsync("dags", TeamHelpers.Dag("b1", "b")).ExpectProblemAsync(HttpStatusCode.Forbidden);
        await adminA.PostJsonAsync("dags", TeamHelpers.Dag("n1", null)).ExpectProblemAsync(HttpStatusCode.Forbidden);
        await adminA.PutJsonAsync("dags/a1", TeamHelpers.Dag("a1", "b")).ExpectProblemAsync(HttpStatusCode.Forbidden);
        await adminA.PutJsonAsync("dags/a1", TeamHelpers.Dag("a1", "a", "echo changed")).ExpectAsync(HttpStatusCode.OK);
        var versions = await adminA.GetAsync("dags/a1/versions").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2, versions.GetProperty("items").GetArrayLength());
        // A global viewer sees every team's DAG; a global admin may move it.
        await Viewer.GetAsync("dags/a1").ExpectAsync(HttpStatusCode.OK);
        await Admin.PutJsonAsync("dags/a1", TeamHelpers.Dag("a1", "b", "echo changed")).ExpectAsync(HttpStatusCode.OK);
        await adminA.GetAsync("dags/a1").ExpectProblemAsync(HttpStatusCode.NotFound);
        await adminA.DeleteAsync("dags/a1").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TeamVariables_AreUndefinedInOtherTeamsDags()
    {
        await Server.CreateTeamAsync("a");
        await Server.CreateTeamAsync("b");
        await Admin.PutJsonAsync("variables/b_only", """{"value":"for-b","team":"b"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("variables/shared", """{"value":"for-all"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/a_reads", TeamHelpers.Dag("a_reads", "a", "echo {{ vars.b_only }}")).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/b_reads", TeamHelpers.Dag("b_reads", "b", "echo {{ vars.b_only }} {{ vars.shared }}")).ExpectAsync(HttpStatusCode.Created);
        var a = await Admin.WaitForRunAsync(await Admin.TriggerAsync("a_reads"));
        var b = await Admin.WaitForRunAsync(await Admin.TriggerAsync("b_reads"));
        Assert.Equal("failed", a.GetProperty("state").GetString());
        Assert.Equal("success", b.GetProperty("state").GetString());
        using var log = await Admin.GetAsync($"runs/{a.GetProperty("run_id").GetInt64()}/tasks/a/logs");
        Assert.Contains("b_only", await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TeamConnections_AreNotFoundInOtherTeamsDags()
    {
        await Server.CreateTeamAsync("a");
        await Server.CreateTeamAsync("b");
        foreach (var (name, team) in new[] { ("b_db", "b"), ("shared_db", (string?)null) })
            await Admin.PostJsonAsync("connections", new { name, kind = "postgres", connection_string = TestDatabase.ConnectionString, team }).ExpectAsync(HttpStatusCode.Created);
        string SqlDag(string name, string team, params string[] connections) => System.Text.Json.JsonSerializer.Serialize(new
        {
            name, team,
            tasks = connections.Select(c => new { id = c, type = "sql", connection = c, statement = "select 1 as one" }),
        }, ServerFixture.Json);
        await Admin.PutJsonAsync("dags/a_sql", SqlDag("a_sql", "a", "b_db", "shared_db")).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/b_sql", SqlDag("b_sql", "b", "b_db", "shared_db")).ExpectAsync(HttpStatusCode.Created);
        var a = await Admin.WaitForRunAsync(await Admin.TriggerAsync("a_sql"));
        var b = await Admin.WaitForRunAsync(await Admin.TriggerAsync("b_sql"));
        // Team a's DAG cannot use team b's connection: to it, the connection does not exist.
        Assert.Equal("failed", RunHelpers.State(a, "b_db"));
        Assert.Equal("no connection named 'b_db'", RunHelpers.Task(a, "b_db").GetProperty("attempts")[0].GetProperty("error").GetString());
        Assert.Equal("success", RunHelpers.State(a, "shared_db"));
        Assert.Equal("success", b.GetProperty("state").GetString());
    }
}
