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

    public static string Dag(string name, string? team, string command = "true") =>
        JsonSerializer.Serialize(new { name, team, cron = "0 3 * * *", catchup = false, tasks = new[] { new { id = "a", type = "shell", command } } }, ServerFixture.Json);
}
