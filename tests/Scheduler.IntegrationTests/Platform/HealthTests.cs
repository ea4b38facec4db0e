using System.Net;
using Npgsql;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Platform;

/// <summary>/health/ready says what is wrong, in words that leak no host, user, password or exception text.</summary>
public sealed class HealthTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Ready_NamesPendingMigrations_ThenAnUnreachableDatabase_WithoutInternals()
    {
        var database = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString);
        await using var relay = new TcpRelay(database.Host!, database.Port);
        var viaRelay = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString) { Port = relay.Port, Timeout = 3 };
        // This build's migrations plus one it does not know yet: a replica of an older build.
        var migrations = Directory.CreateTempSubdirectory("scheduler-it-migrations-").FullName;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "migrations"), "*.sql"))
            File.Copy(file, Path.Combine(migrations, Path.GetFileName(file)));
        await File.WriteAllTextAsync(Path.Combine(migrations, "9999_from_a_newer_build.sql"), "select 1;");

        await using var replica = new ExtraServer(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Scheduler"] = viaRelay.ConnectionString,
            ["Database:MigrateOnStartup"] = "false",
            ["Database:MigrationsPath"] = migrations,
        });
        using var client = new HttpClient { BaseAddress = replica.BaseAddress };

        var pending = await ReadyAsync(client);
        Assert.Equal("migrations pending: 9999_from_a_newer_build", pending);

        relay.Cut();
        var unreachable = await ReadyAsync(client);
        Assert.Equal("database unreachable", unreachable);
    }

    /// <summary>503 and the database check's description; the whole body is free of connection details.</summary>
    private static async Task<string> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        var builder = new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionString);
        foreach (var secret in new[] { builder.Host!, builder.Username!, builder.Password!, builder.Database!, "Exception", "Failed to connect", "Npgsql" })
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal("unhealthy", json.RootElement.GetProperty("status").GetString());
        return json.RootElement.GetProperty("checks").GetProperty("database").GetProperty("description").GetString()!;
    }
}
