using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>
/// The role matrix with teams (<see cref="RoleMatrix.TeamRefusal"/>): every team-scoped operation
/// and some global ones, called by global viewer/operator/admin, by viewer/operator/admin of the
/// owning team, by an operator of another team and without a key, on objects of the owning team.
/// </summary>
public sealed class TeamRoleMatrixTests(ServerFixture server) : ServerTest(server)
{
    private const string Owner = "owner";
    private const string DagBody = """{"name":"tm_dag","team":"owner","cron":"0 3 * * *","catchup":false,"tasks":[{"id":"a","type":"shell","command":"echo '{\"n\": 1}' > \"$SCHEDULER_OUTPUT\""}]}""";
    private const string ConnectionBody = """{"kind":"postgres","connection_string":"Host=127.0.0.1;Database=x","team":"owner"}""";
    private const string VariableBody = """{"value":{"a":1},"team":"owner"}""";
    private const string ChannelBody = """{"type":"slack","settings":{"webhook_url":"http://127.0.0.1:9/hook"},"team":"owner"}""";
    private const string MonitorBody = """{"interval":"PT1H","grace":"PT0S","team":"owner"}""";

    [Fact]
    public async Task TeamRoles_AreEnforced_OnEveryTeamScopedOperation()
    {
        await Server.CreateTeamAsync(Owner);
        await Server.CreateTeamAsync("other");
        await Admin.PutJsonAsync("dags/tm_dag", DagBody).ExpectAsync(HttpStatusCode.Created);
        var run = await Admin.TriggerAsync("tm_dag");
        await Admin.WaitForRunAsync(run);
        await Admin.PutJsonAsync("connections/tm_conn", ConnectionBody).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("variables/tm_var", VariableBody).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("channels/tm_chan", ChannelBody).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("monitors/tm_mon", MonitorBody).ExpectAsync(HttpStatusCode.Created);
        var backfill = (await Admin.PostJsonAsync("dags/tm_dag/backfills", """{"from":"2026-01-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}""")
            .ExpectAsync(HttpStatusCode.Created)).GetProperty("id").GetInt64();

        var callers = new List<(string Name, HttpClient Client, string? Global, string? TeamRole, bool OwnTeam)>
        {
            ("none", Server.NewClient(null), null, null, false),
            ("global viewer", Viewer, RoleMatrix.Viewer, null, false),
            ("team viewer", await Server.TeamClientAsync("tv", new() { [Owner] = "viewer" }), null, "viewer", true),
            ("other team operator", await Server.TeamClientAsync("oo", new() { ["other"] = "operator" }), null, "operator", false),
            ("global operator", Operator, RoleMatrix.Operator, null, false),
            ("team operator", await Server.TeamClientAsync("to", new() { [Owner] = "operator" }), null, "operator", true),
            ("team admin", await Server.TeamClientAsync("ta", new() { [Owner] = "admin" }), null, "admin", true),
            ("global admin", Admin, RoleMatrix.Admin, null, false),
        };
        HttpStatusCode[] ok = [HttpStatusCode.OK];
        var cases = new (string Method, string Path, string Template, string? Body, HttpStatusCode[] Allowed)[]
        {
            ("GET", "dags", "/api/v1/dags", null, ok),
            ("POST", "dags/validate", "/api/v1/dags/validate", DagBody, ok),
            ("GET", "dags/tm_dag", "/api/v1/dags/{name}", null, ok),
            ("GET", "dags/tm_dag/versions", "/api/v1/dags/{name}/versions", null, ok),
            ("GET", "dags/tm_dag/versions/1", "/api/v1/dags/{name}/versions/{version}", null, ok),
            ("GET", "dags/tm_dag/schedule", "/api/v1/dags/{name}/schedule", null, ok),
            ("GET", "dags/tm_dag/runs", "/api/v1/dags/{name}/runs", null, ok),
            ("GET", "dags/tm_dag/status", "/api/v1/dags/{name}/status", null, ok),
            ("GET", "dags/tm_dag/backfills", "/api/v1/dags/{name}/backfills", null, ok),
            ("POST", "dags/tm_dag/pause", "/api/v1/dags/{name}/pause", null, ok),
            ("POST", "dags/tm_dag/unpause", "/api/v1/dags/{name}/unpause", null, ok),
            ("PUT", "dags/tm_dag", "/api/v1/dags/{name}", DagBody, ok),
            ("POST", "dags/tm_dag/backfills", "/api/v1/dags/{name}/backfills", """{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z","dry_run":true}""", ok),
            ("POST", "dags/tm_dag/runs", "/api/v1/dags/{name}/runs", "{}", [HttpStatusCode.Created]),
            ("POST", "dags", "/api/v1/dags", DagBody.Replace("tm_dag", "tm_new"), [HttpStatusCode.Created, HttpStatusCode.Conflict]),
            ("GET", $"runs/{run}", "/api/v1/runs/{runId}", null, ok),
            ("GET", $"runs/{run}/tasks/a/logs", "/api/v1/runs/{runId}/tasks/{taskId}/logs", null, ok),
            ("GET", $"runs/{run}/tasks/a/output", "/api/v1/runs/{runId}/tasks/{taskId}/output", null, ok),
            ("POST", $"runs/{run}/cancel", "/api/v1/runs/{runId}/cancel", null, [HttpStatusCode.OK, HttpStatusCode.Conflict]),
            ("POST", $"runs/{run}/tasks/a/clear", "/api/v1/runs/{runId}/tasks/{taskId}/clear", null, [HttpStatusCode.OK, HttpStatusCode.Conflict]),
            ("POST", $"runs/{run}/tasks/a/mark", "/api/v1/runs/{runId}/tasks/{taskId}/mark", """{"state":"success"}""", [HttpStatusCode.OK, HttpStatusCode.Conflict]),
            ("GET", $"backfills/{backfill}", "/api/v1/backfills/{id}", null, ok),
            ("POST", $"backfills/{backfill}/cancel", "/api/v1/backfills/{id}/cancel", null, [HttpStatusCode.OK, HttpStatusCode.Conflict]),
            ("POST", "monitors/tm_mon/token", "/api/v1/monitors/{name}/token", null, ok),
            ("GET", "connections", "/api/v1/connections", null, ok),
            ("GET", "connections/tm_conn", "/api/v1/connections/{name}", null, ok),
            ("PUT", "connections/tm_conn", "/api/v1/connections/{name}", ConnectionBody, ok),
            ("GET", "variables", "/api/v1/variables", null, ok),
            ("GET", "variables/tm_var", "/api/v1/variables/{name}", null, ok),
            ("PUT", "variables/tm_var", "/api/v1/variables/{name}", VariableBody, ok),
            ("GET", "channels", "/api/v1/channels", null, ok),
            ("GET", "channels/tm_chan", "/api/v1/channels/{name}", null, ok),
            ("PUT", "channels/tm_chan", "/api/v1/channels/{name}", ChannelBody, ok),
            ("GET", "monitors", "/api/v1/monitors", null, ok),
            ("GET", "monitors/tm_mon", "/api/v1/monitors/{name}", null, ok),
            ("GET", "monitors/tm_mon/pings", "/api/v1/monitors/{name}/pings", null, ok),
            ("POST", "monitors/tm_mon/pause", "/api/v1/monitors/{name}/pause", null, ok),
            ("POST", "monitors/tm_mon/unpause", "/api/v1/monitors/{name}/unpause", null, ok),
            ("PUT", "monitors/tm_mon", "/api/v1/monitors/{name}", MonitorBody, ok),
            ("GET", "teams", "/api/v1/teams", null, ok),
            ("GET", $"teams/{Owner}", "/api/v1/teams/{name}", null, ok),
            ("PUT", $"teams/{Owner}", "/api/v1/teams/{name}", """{"description":"test team"}""", ok),
            ("GET", "workers", "/api/v1/workers", null, ok),
            ("GET", "audit", "/api/v1/audit", null, ok),
            ("POST", "api-keys", "/api/v1/api-keys", """{"name":"k","roles":{"owner":"viewer"}}""", [HttpStatusCode.Created]),
            // Deletes last: the first caller allowed deletes, those after find nothing.
            ("DELETE", "variables/tm_var", "/api/v1/variables/{name}", null, [HttpStatusCode.NoContent, HttpStatusCode.NotFound]),
            ("DELETE", "monitors/tm_mon", "/api/v1/monitors/{name}", null, [HttpStatusCode.NoContent, HttpStatusCode.NotFound]),
            ("DELETE", "channels/tm_chan", "/api/v1/channels/{name}", null, [HttpStatusCode.NoContent, HttpStatusCode.NotFound]),
            ("DELETE", "connections/tm_conn", "/api/v1/connections/{name}", null, [HttpStatusCode.NoContent, HttpStatusCode.NotFound]),
            ("DELETE", "dags/tm_dag", "/api/v1/dags/{name}", null, [HttpStatusCode.NoContent, HttpStatusCode.NotFound]),
        };
        var failures = new List<string>();
        foreach (var (method, path, template, body, allowed) in cases)
        {
            foreach (var caller in callers)
            {
                var refusal = caller.TeamRole is null
                    ? RoleMatrix.Refusal(method, template, caller.Global ?? RoleMatrix.None)
                    : RoleMatrix.TeamRefusal(method, template, caller.TeamRole, caller.OwnTeam);
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (body is not null)
                    request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                using var response = await caller.Client.SendAsync(request);
                var fine = refusal is { } refused ? response.StatusCode == refused : allowed.Contains(response.StatusCode);
                if (!fine)
                    failures.Add($"{caller.Name} {method} {path}: expected {(refusal is { } r ? ((int)r).ToString() : string.Join("/", allowed.Select(a => (int)a)))}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                if ((int)response.StatusCode >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{caller.Name} {method} {path}: {(int)response.StatusCode} is not a problem document");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// The rest of the matrix: every operation that is not team-scoped needs a global role, so
    /// callers with team roles only (even a team admin) are refused it with a 403 problem.
    /// </summary>
    [Fact]
    public async Task TeamOnlyCallers_AreRefused_EveryOperationThatIsNotTeamScoped()
    {
        await Server.CreateTeamAsync(Owner);
        var callers = new[]
        {
            ("team viewer", await Server.TeamClientAsync("gv", new() { [Owner] = "viewer" })),
            ("team admin", await Server.TeamClientAsync("ga", new() { [Owner] = "admin" })),
        };
        var failures = new List<string>();
        var checkedOperations = 0;
        foreach (var (operation, role) in RoleMatrix.Required)
        {
            if (role is RoleMatrix.None or RoleMatrix.Token || RoleMatrix.TeamScopes.ContainsKey(operation))
                continue;
            checkedOperations++;
            var method = operation[..operation.IndexOf(' ')];
            var path = System.Text.RegularExpressions.Regex.Replace(operation[(operation.IndexOf(' ') + "/api/v1/".Length + 1)..], @"\{[^}]+\}", "1");
            foreach (var (name, client) in callers)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT")
                    request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
                using var response = await client.SendAsync(request);
                if (response.StatusCode != HttpStatusCode.Forbidden || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{name} {method} {path}: expected a 403 problem, got {(int)response.StatusCode}");
            }
        }
        Assert.True(checkedOperations > 20, $"only {checkedOperations} operations are global-only: the matrix lost its entries?");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
