using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Respawn;
using Scheduler.Modules.Access;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// The real server on a real Kestrel port over real HTTP, on the test PostgreSQL database.
/// Migrations are applied by the server's own start-up path. Between tests Respawn empties
/// the module tables and the fixture recreates one key per role.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string BootstrapKey = "sk_test_bootstrap_admin_key_0123456789";
    public const string PublicUrl = "https://scheduler.example.test";
    public const string AdminUser = "admin";
    public const string AdminPassword = "admin-test-password";
    public const string EgressDenied = "127.0.0.2";
    /// <summary>The master key every test server encrypts its key ring with (Secrets:MasterKey): a server refuses to start without one.</summary>
    public const string MasterKey = "c2NoZWR1bGVyLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU=";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private WebApplicationFactory<Program> _factory = null!;
    private Respawner _respawner = null!;

    public Uri BaseAddress { get; private set; } = null!;
    /// <summary>The server's gRPC (h2c) port on 127.0.0.1.</summary>
    public int GrpcPort { get; private set; }
    public HttpClient Anonymous { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient Operator { get; private set; } = null!;
    public HttpClient Viewer { get; private set; } = null!;
    public IServiceProvider Services => _factory.Services;
    /// <summary>Where the server exports its traces (OTLP over HTTP), as in production.</summary>
    public OtlpReceiver Traces { get; private set; } = null!;

    /// <summary>A plugins folder holding the test plugin (task type <c>echo</c>), loaded at start-up.</summary>
    private static string PluginsFolder()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var dll = Path.GetFullPath(Path.Combine(here.FullName, "..", "..", "..", "..", "Scheduler.TestPlugin", "bin", here.Parent!.Name, "net10.0", "Scheduler.TestPlugin.dll"));
        var folder = Directory.CreateTempSubdirectory("scheduler-it-plugins-").FullName;
        if (File.Exists(dll))
            File.Copy(dll, Path.Combine(folder, Path.GetFileName(dll)));
        return folder;
    }

    public async Task InitializeAsync()
    {
        var plugins = PluginsFolder();
        Traces = await OtlpReceiver.StartAsync();
        _factory = Start(new Dictionary<string, string?>
        {
            ["Auth:BootstrapAdminUser"] = AdminUser,
            ["Auth:BootstrapAdminPassword"] = AdminPassword,
            // Fast heartbeats and polls so lease and retry behaviour shows within a test's patience.
            ["Workers:PluginsPath"] = plugins,
            ["Workers:Slots"] = "8",
            ["Workers:HeartbeatSeconds"] = "1",
            ["Workers:LeaseSeconds"] = "4",
            ["Workers:PollSeconds"] = "0.5",
            ["Workers:ShutdownTimeoutSeconds"] = "2",
            // A hung endpoint fails within a test's patience (AttemptEndTests).
            ["Workers:HttpTimeoutSeconds"] = "5",
            ["Scheduler:MaintenanceSeconds"] = "0.5",
            // Quick delivery retries (1 s, then 1 s: three attempts). The dispatcher keeps its
            // default 30 s fallback poll and Hangfire its default polls: NOTIFY and the
            // dispatcher's timers must do, as in production.
            ["Notifications:RetryDelays:0"] = "00:00:01",
            ["Notifications:RetryDelays:1"] = "00:00:01",
            ["Notifications:PublicUrl"] = PublicUrl,
            // Every test signs in and sends keys from 127.0.0.1: limits far above what a test
            // suite does. RateLimitTests runs a server of its own with low ones.
            ["RateLimits:SignInsPerUserPerMinute"] = "100000",
            ["RateLimits:SignInsPerIpPerMinute"] = "100000",
            ["RateLimits:ApiKeyFailuresPerIpPerMinute"] = "100000",
            ["RateLimits:MonitorPingsPerMinute"] = "100000",
            // Tracing on, configured the standard way, exported often so tests need not wait.
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Traces.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            // One loopback address the egress policy refuses (EgressTests); 127.0.0.1 stays allowed.
            ["Egress:Deny:0"] = EgressDenied + "/32",
            // gRPC on a free loopback port (GrpcTests); with it on, the REST address comes
            // from the hosting URLs as in production, here a dynamic loopback port.
            ["Grpc:Port"] = (GrpcPort = Loopback.FreePort()).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["urls"] = "http://127.0.0.1:0",
        });
        BaseAddress = _factory.ClientOptions.BaseAddress;
        // Hangfire's storage is a process-wide static read when first resolved: resolve this
        // server's now, before an ExtraServer's start replaces the static with its own.
        _factory.Services.GetRequiredService<Hangfire.IBackgroundJobClient>();
        Anonymous = new HttpClient { BaseAddress = BaseAddress };
        Admin = NewClient(BootstrapKey);

        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        _respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["dags", "access", "runs", "workers", "notifications"],
            // Pools hold a configuration row reset below; live worker rows and the Data
            // Protection key ring belong to the running server, not to a test.
            TablesToIgnore = [new Respawn.Graph.Table("runs", "pools"), new Respawn.Graph.Table("workers", "nodes"), new Respawn.Graph.Table("workers", "data_protection_keys")],
        });
        await ResetAsync();
    }

    /// <summary>
    /// A server as the tests run it (environment Testing, the test database, the bootstrap
    /// key, a loopback port) with <paramref name="settings"/> on top; a null value removes a
    /// setting. <paramref name="services"/> may add services (a log sink).
    /// </summary>
    public static WebApplicationFactory<Program> Start(IReadOnlyDictionary<string, string?> settings, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null)
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Testing");
            web.UseSetting("ConnectionStrings:Scheduler", TestDatabase.ConnectionString);
            web.UseSetting("Auth:BootstrapAdminKey", BootstrapKey);
            web.UseSetting("Secrets:MasterKey", MasterKey);
            // gRPC's default port (5081) is one per machine: a server gets one only when asked.
            web.UseSetting("Grpc:Port", "off");
            foreach (var (key, value) in settings)
                web.UseSetting(key, value);
            if (services is not null)
                web.ConfigureServices(services);
        });
        // An explicit loopback port 0: UseKestrel(0) ended up on localhost:5000, which collides
        // with any other test run or server on the machine.
        factory.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        factory.StartServer();
        return factory;
    }

    public HttpClient NewClient(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseAddress, "/api/v1/") };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>Empties every module table, then recreates the bootstrap key and one key per role.</summary>
    public async Task ResetAsync()
    {
        await using (var connection = new NpgsqlConnection(TestDatabase.ConnectionString))
        {
            await connection.OpenAsync();
            // The running server's own loops (claims, maintenance) write to these tables while
            // Respawn deletes; a deadlock victim is rolled back whole, so trying again is safe.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await _respawner.ResetAsync(connection);
                    break;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5)
                {
                    await Task.Delay(50 * attempt);
                }
            }
            await using var pools = new NpgsqlCommand("delete from runs.pools where name <> 'default'", connection);
            await pools.ExecuteNonQueryAsync();
            // The audit trail is append-only (migration 0018): only a transaction that says
            // audit.allow = 'purge' may delete its entries, as the retention job does.
            await using var audit = new NpgsqlCommand("begin; select set_config('audit.allow', 'purge', true); delete from audit.entries; commit;", connection);
            await audit.ExecuteNonQueryAsync();
        }
        ((MemoryCache)_factory.Services.GetRequiredService<IMemoryCache>()).Clear();
        Traces.Clear();
        var configuration = _factory.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        await BootstrapAdminKey.EnsureAsync(_factory.Services, configuration);
        await BootstrapAdminUser.EnsureAsync(_factory.Services, configuration);
        Operator = NewClient(await CreateKeyAsync("test-operator", "operator"));
        Viewer = NewClient(await CreateKeyAsync("test-viewer", "viewer"));
    }

    /// <summary>A user of the admin pages, created directly (not through the pages under test).</summary>
    public async Task CreateUserAsync(string username, string role, string password)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<Mediator.ISender>().Send(new CreateUser.Command(username, role, password, "test"));
        Assert.NotNull(created);
    }

    public async Task<string> CreateKeyAsync(string name, string role, DateTimeOffset? expiresAt = null)
    {
        var response = await Admin.PostAsJsonAsync("api-keys", new { name, role, expires_at = expiresAt }, Json);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("key").GetString()!;
    }

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        Admin.Dispose();
        await _factory.DisposeAsync();
        await Traces.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}

/// <summary>Base class: a clean database before every test.</summary>
[Collection(ServerCollection.Name)]
public abstract class ServerTest(ServerFixture server) : IAsyncLifetime
{
    protected ServerFixture Server { get; } = server;
    protected HttpClient Admin => Server.Admin;
    protected HttpClient Operator => Server.Operator;
    protected HttpClient Viewer => Server.Viewer;
    protected HttpClient Anonymous => Server.Anonymous;

    public Task InitializeAsync() => Server.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}
