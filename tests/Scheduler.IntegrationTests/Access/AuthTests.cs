using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

public sealed class AuthTests(ServerFixture server) : ServerTest(server)
{
    private const string Dag = """{"name":"auth_dag","tasks":[{"id":"a"}]}""";

    [Fact]
    public async Task MissingOrInvalidKey_Gets401Problem()
    {
        var missing = await Anonymous.GetAsync("api/v1/dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", missing.GetProperty("detail").GetString());
        using var wrong = Server.NewClient("sk_not_a_real_key_at_all_000000000");
        await wrong.GetAsync("dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        using var huge = Server.NewClient(new string('x', 5000));
        await huge.GetAsync("dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
    }

    /// <summary>Who may do what: the role matrix of docs/api.md (<see cref="RoleMatrix"/>), on real requests.</summary>
    [Fact]
    public async Task RoleMatrix_IsEnforced()
    {
        await Admin.PostJsonAsync("dags", Dag).ExpectAsync(HttpStatusCode.Created);
        var cases = new (string Method, string Path, string Template, string? Body, HttpStatusCode Allowed)[]
        {
            ("GET", "dags", "/api/v1/dags", null, HttpStatusCode.OK),
            ("GET", "dags/auth_dag", "/api/v1/dags/{name}", null, HttpStatusCode.OK),
            ("GET", "dags/auth_dag/versions", "/api/v1/dags/{name}/versions", null, HttpStatusCode.OK),
            ("GET", "dags/auth_dag/schedule", "/api/v1/dags/{name}/schedule", null, HttpStatusCode.OK),
            ("POST", "dags/auth_dag/pause", "/api/v1/dags/{name}/pause", null, HttpStatusCode.OK),
            ("POST", "dags/auth_dag/unpause", "/api/v1/dags/{name}/unpause", null, HttpStatusCode.OK),
            ("POST", "dags", "/api/v1/dags", """{"name":"new_dag","tasks":[{"id":"a"}]}""", HttpStatusCode.Created),
            ("PUT", "dags/auth_dag", "/api/v1/dags/{name}", Dag, HttpStatusCode.OK),
            ("GET", "api-keys", "/api/v1/api-keys", null, HttpStatusCode.OK),
            ("POST", "api-keys", "/api/v1/api-keys", """{"name":"k","role":"viewer"}""", HttpStatusCode.Created),
            ("GET", "pools", "/api/v1/pools", null, HttpStatusCode.OK),
            ("PUT", "pools/auth_pool", "/api/v1/pools/{name}", """{"slots":2}""", HttpStatusCode.OK),
            ("GET", "monitors", "/api/v1/monitors", null, HttpStatusCode.OK),
            ("GET", "channels", "/api/v1/channels", null, HttpStatusCode.OK),
            ("GET", "connections", "/api/v1/connections", null, HttpStatusCode.OK),
            ("GET", "notifications/rules", "/api/v1/notifications/rules", null, HttpStatusCode.OK),
            ("GET", "dead-letters", "/api/v1/dead-letters", null, HttpStatusCode.OK),
            ("GET", "workers", "/api/v1/workers", null, HttpStatusCode.OK),
            ("PUT", "teams/auth_team", "/api/v1/teams/{name}", """{"description":"t"}""", HttpStatusCode.Created),
            ("GET", "teams", "/api/v1/teams", null, HttpStatusCode.OK),
            ("GET", "teams/auth_team", "/api/v1/teams/{name}", null, HttpStatusCode.OK),
            ("DELETE", "teams/auth_team", "/api/v1/teams/{name}", null, HttpStatusCode.NoContent),
            ("DELETE", "dags/auth_dag", "/api/v1/dags/{name}", null, HttpStatusCode.NoContent),
        };
        foreach (var (method, path, template, body, allowed) in cases)
        {
            // Admin last: only its call may change what the others see (a create, the final delete).
            foreach (var role in new[] { RoleMatrix.None, RoleMatrix.Viewer, RoleMatrix.Operator, RoleMatrix.Admin })
            {
                var client = role switch { RoleMatrix.Viewer => Viewer, RoleMatrix.Operator => Operator, RoleMatrix.Admin => Admin, _ => Server.NewClient(null) };
                var expected = RoleMatrix.Refusal(method, template, role) ?? allowed;
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (body is not null)
                    request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                using var response = await client.SendAsync(request);
                Assert.True(expected == response.StatusCode, $"{role} {method} {path}: expected {(int)expected}, got {(int)response.StatusCode}");
                if ((int)response.StatusCode >= 400)
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    /// <summary>A new endpoint must join the matrix (and so the fuzz test) before it ships.</summary>
    [Fact]
    public async Task RoleMatrix_NamesEveryOperationOfTheOpenApiDocument()
    {
        var doc = await Anonymous.GetAsync("swagger/v1/swagger.json").ExpectAsync(HttpStatusCode.OK);
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => $"{m.Name.ToUpperInvariant()} {p.Name}"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(RoleMatrix.Required.Keys.Order(StringComparer.Ordinal), operations);
    }

    [Fact]
    public async Task ApiKeys_CreateShowsKeyOnce_ListNeverShowsIt_RevokeStopsIt()
    {
        var created = await Admin.PostJsonAsync("api-keys", new { name = "ci", role = "operator" }).ExpectAsync(HttpStatusCode.Created);
        var key = created.GetProperty("key").GetString()!;
        Assert.StartsWith("sk_", key);
        var id = created.GetProperty("id").GetInt64();

        var list = await Admin.GetAsync("api-keys").ExpectAsync(HttpStatusCode.OK);
        var listed = list.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetInt64() == id);
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.StartsWith(listed.GetProperty("prefix").GetString()!, key, StringComparison.Ordinal);
        Assert.DoesNotContain(key, list.GetRawText());
        // Stored as a hash only.
        Assert.Equal(0L, await TestDatabase.ScalarAsync<long>("select count(*) from access.api_keys where encode(key_hash, 'escape') like '%' || @k || '%'", ("k", key)));

        using var ci = Server.NewClient(key);
        await ci.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
        await Admin.DeleteAsync($"api-keys/{id}").ExpectAsync(HttpStatusCode.NoContent);
        await ci.GetAsync("dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        await Admin.DeleteAsync("api-keys/999999").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ExpiredKey_Gets401()
    {
        var key = await Server.CreateKeyAsync("short", "viewer", DateTimeOffset.UtcNow.AddSeconds(2));
        using var client = Server.NewClient(key);
        await client.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var problem = await client.GetAsync("dags").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("expired", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"name":"","role":"viewer"}""", "name")]
    [InlineData("""{"name":"k","role":"root"}""", "role")]
    [InlineData("""{"name":"k"}""", "role")]
    [InlineData("""{"name":"k","role":"viewer","expires_at":"2000-01-01T00:00:00Z"}""", "expires_at")]
    public async Task CreateKey_ValidatesInput(string body, string field)
    {
        var problem = await Admin.PostJsonAsync("api-keys", body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors(field));
    }

    [Fact]
    public async Task Anonymous_CanReachHealthMetricsAndOpenApiOnly()
    {
        await Anonymous.GetAsync("health/live").ExpectAsync(HttpStatusCode.OK);
        // The Prometheus scrape endpoint is anonymous, as scrapers are; it shows counts only.
        using (var metrics = await Anonymous.GetAsync("metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Contains("scheduler_task_instances", await metrics.Content.ReadAsStringAsync());
        }
        var ready = await Anonymous.GetAsync("health/ready").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("healthy", ready.GetProperty("status").GetString());
        var doc = await Anonymous.GetAsync("swagger/v1/swagger.json").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("X-Api-Key", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey").GetProperty("name").GetString());
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/v1/dags/{name}/schedule", out _));
        using var ui = await Anonymous.GetAsync("swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress };
        using var root = await noRedirects.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/swagger", root.Headers.Location?.OriginalString);
    }
}
