using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Scheduler.Infrastructure.Database;

namespace Scheduler.Infrastructure.Health;

/// <summary>
/// <c>/health/live</c>: the process answers (restart it if not). <c>/health/ready</c>: the
/// database answers and has every migration this build ships (route traffic here only then);
/// when not, its description says which (<see cref="Describe"/>) without internals.
/// </summary>
internal static class HealthSetup
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<DatabaseReadyCheck>("database", tags: ["ready"]);
        return services;
    }

    public static void MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = Write }).AllowAnonymous();
    }

    private static Task Write(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description }),
        }));
    }

    /// <summary>
    /// What a failed readiness check says: a fixed phrase per kind of failure, never the
    /// exception's text (it can name hosts, ports, users or the database). The exception goes
    /// to the server's log with the check's result.
    /// </summary>
    internal static string Describe(Exception exception) => exception switch
    {
        OperationCanceledException or TimeoutException => "database did not answer in time",
        PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } => "database refused the credentials",
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } => "database does not exist",
        PostgresException { SqlState: PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow } => "database refuses connections (starting up, shutting down or full)",
        PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege } => "database user lacks a privilege the check needs",
        NpgsqlException { InnerException: TimeoutException } => "database did not answer in time",
        NpgsqlException or System.Net.Sockets.SocketException => "database unreachable",
        _ => "readiness check failed (see the server log)",
    };

    private sealed class DatabaseReadyCheck(MigrationRunner runner, IConfiguration configuration) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var pending = await runner.PendingAsync(MigrationRunner.Load(MigrationRunner.FindMigrationsPath(configuration)), timeout.Token);
                return pending.Count == 0
                    ? HealthCheckResult.Healthy("database reachable, migrations applied")
                    : HealthCheckResult.Unhealthy($"migrations pending: {string.Join(", ", pending)}");
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The exception is logged by the health check service, not written to the response.
                return HealthCheckResult.Unhealthy(Describe(e), e);
            }
        }
    }
}
