using Microsoft.AspNetCore.DataProtection;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Net;
using Scheduler.Infrastructure.Security;
using Scheduler.Modules.Workers.Connections;
using Scheduler.Modules.Workers.Executors;
using Scheduler.Modules.Workers.Pool;
using Scheduler.Modules.Workers.Templates;
using Scheduler.Modules.Workers.Variables;
using Scheduler.Modules.Workers.Secrets;

namespace Scheduler.Modules.Workers;

internal static class WorkersModule
{
    public static IServiceCollection AddWorkers(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WorkerOptions>(configuration.GetSection("Workers"));
        services.AddModuleDbContext<ConnectionsDbContext>();
        // One key ring in PostgreSQL for every replica, so a secret stored by one decrypts on all;
        // its keys encrypted by the master key, which the database never holds (MasterKey).
        services.AddDataProtection().SetApplicationName("scheduler").PersistKeysToDbContext<ConnectionsDbContext>().ProtectKeysWithMasterKey(configuration);
        services.AddSingleton<ConnectionSecrets>();
        services.AddSingleton<IConnectionResolver>(sp => sp.GetRequiredService<ConnectionSecrets>());
        services.AddSingleton<VariableStore>();
        services.AddSingleton<TaskTemplating>();
        // The executor applies Workers:HttpTimeoutSeconds itself (the task's own timeout governs where set).
        services.AddHttpClient(HttpExecutor.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan).WithEgressPolicy();
        services.AddSingleton<ITaskExecutor, NoopExecutor>();
        services.AddSingleton<ITaskExecutor>(sp => new ShellExecutor(ShellUser.Resolve(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>().Value.Shell.RunAsUser)));
        services.AddSingleton<ITaskExecutor, HttpExecutor>();
        services.AddSingleton<ITaskExecutor, SqlExecutor>();
        services.AddSingleton<ITaskExecutor, WaitExecutor>();
        services.AddSingleton<ExecutorRegistry>();
        services.AddSingleton<WorkerIdentity>();
        services.AddSingleton<RunningAttempts>();
        services.AddSingleton<ClaimSignal>();
        services.AddSingleton<OutcomeRecorder>();
        services.AddSingleton<AttemptRunner>();
        services.AddSingleton<ClaimLoop>();
        services.AddSingleton<QueueListener>();
        services.AddSingleton<LeaseHeartbeat>();
        services.AddSingleton<WorkerPool>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerPool>());
        return services;
    }

    /// <summary>
    /// Creates (or loads) the shared Data Protection key ring at start-up: a fresh database
    /// otherwise gets its first key from whichever request encrypts first (a secret, a
    /// cookie, an antiforgery token), several at once.
    /// </summary>
    public static void EnsureKeyRing(this WebApplication app)
    {
        app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Scheduler.Startup").Protect("ready");
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnectionsDbContext>();
        // Keys written before a master key was configured stay readable, and in plaintext.
        var plain = db.DataProtectionKeys.Count(k => k.Xml != null && k.Xml.Contains("<masterKey"));
        if (plain > 0)
            app.Services.GetRequiredService<ILogger<ConnectionsDbContext>>().LogWarning(
                "{Count} Data Protection key(s) in workers.data_protection_keys were stored before a master key was configured and are NOT encrypted: rotate (POST /api/v1/secrets/rotate) to re-encrypt every secret under a new key and delete them", plain);
    }

    public static void MapWorkers(this RouteGroupBuilder api)
    {
        ListWorkers.Map(api);
        // Team-scoped: each endpoint names its role (a team admin manages its team's connections).
        var connections = api.MapGroup("/connections").WithTags("Connections");
        SaveConnection.Map(connections);
        ListConnections.Map(connections);
        GetConnection.Map(connections);
        DeleteConnection.Map(connections);
        // Reading needs a viewer (a secret's value is never shown); changing one an admin, as for connections.
        var variables = api.MapGroup("/variables").WithTags("Variables").RequireAuthorization(Policies.TeamViewer);
        ReadVariables.Map(variables);
        SaveVariable.Map(variables);
        DeleteVariable.Map(variables);
        RotateSecrets.Map(api.MapGroup("/secrets").WithTags("Secrets").RequireAuthorization(Policies.Admin));
    }
}
