using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>Teams and team-scoped keys for the tests of docs/operations.md, Teams.</summary>
public static class TeamHelpers
{
    public static Task CreateTeamAsync(this ServerFixture server, string team) =>
        server.Admin.PutJsonAsync($"teams/{team}", """{"description":"test team"}""").ExpectOneOfAsync(HttpStatusCode.Created, HttpStatusCode.OK);

    /// <summary>A key with <paramref name="roles"/> per team and, when given, a global role.</summary>
    public static async Task<HttpClient> TeamClientAsync(this ServerFixture server, string name, Dictionary<string, string> roles, string? globalRole = null)
    {
        var response = await server.Admin.PostAsJsonAsync("api-keys", new { name, role = globalRole, roles }, ServerFixture.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return server.NewClient(body.GetProperty("key").GetString());
    }

    /// <summary>Each team, and a DAG of it (running <paramref name="command"/>), created by the admin key.</summary>
    public static async Task CreateTeamDagsAsync(this ServerFixture server, string command, params (string Team, string Dag)[] dags)
    {
        foreach (var (team, dag) in dags)
        {
            await server.CreateTeamAsync(team);
            await server.Admin.PutJsonAsync($"dags/{dag}", Dag(dag, team, command)).ExpectAsync(HttpStatusCode.Created);
        }
    }

    /// <summary>A user of the admin pages with one team role and no global role (set in the row, not through the pages under test).</summary>
    public static async Task CreateTeamOnlyUserAsync(this ServerFixture server, string username, string password, string team, string role)
    {
        await server.CreateUserAsync(username, "viewer", password);
        await TestDatabase.ScalarAsync<int>("update access.users set role = null, team_roles = jsonb_build_object(@t::text, @r::text) where username = @u returning 1",
            ("t", team), ("r", role), ("u", username));
    }

    public static string Dag(string name, string? team, string command = "true") =>
        JsonSerializer.Serialize(new { name, team, cron = "0 3 * * *", catchup = false, tasks = new[] { new { id = "a", type = "shell", command } } }, ServerFixture.Json);
}
