using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Telemetry;

namespace Scheduler.Infrastructure.Database;

internal static class DatabaseSetup
{
    public static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Scheduler") is { Length: > 0 } connectionString
            ? connectionString
            : throw new InvalidOperationException("ConnectionStrings:Scheduler is not set: set the environment variable ConnectionStrings__Scheduler, or start with ./run.sh, which starts a local PostgreSQL.");

    /// <summary>One pooled data source per process, shared by EF Core and the raw Npgsql hot path.</summary>
    public static IServiceCollection AddDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString(configuration))
        {
            ApplicationName = "scheduler",
            // No connection keeps session state when it goes back to the pool (advisory locks
            // are transaction-scoped or released explicitly; LISTEN holds its own connection),
            // so the reset round trip (DISCARD ALL) on every return is pure cost.
            NoResetOnClose = true,
        };
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(builder.ConnectionString).TraceOnlyInsideSpans().Build());
        services.AddSingleton<MigrationRunner>();
        return services;
    }

    public static IServiceCollection AddModuleDbContext<TContext>(this IServiceCollection services) where TContext : DbContext =>
        services.AddDbContext<TContext>((sp, options) => options
            .UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>())
            .UseSnakeCaseNamingConvention());

    public static async Task MigrateAsync(this WebApplication app)
    {
        if (!app.Configuration.GetValue("Database:MigrateOnStartup", true))
            return;
        var runner = app.Services.GetRequiredService<MigrationRunner>();
        await runner.ApplyAsync(MigrationRunner.Load(MigrationRunner.FindMigrationsPath(app.Configuration)));
    }
}
