using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Security;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>
/// Encrypts connection strings at rest with ASP.NET Data Protection (keys in PostgreSQL,
/// rotated by the framework) and decrypts them for executors only. Attempts resolve through
/// <see cref="For"/>: a DAG sees the connections without a team and those of its own team,
/// as with variables (docs/operations.md, Teams); another team's connection is "not found".
/// Resolved directly, every connection is found (server-side tools and tests).
/// </summary>
internal sealed class ConnectionSecrets(IDataProtectionProvider provider, IServiceScopeFactory scopes) : IConnectionResolver
{
    private readonly IDataProtector _protector = provider.CreateProtector("Scheduler.Connections.v1");

    public string Protect(string connectionString) => _protector.Protect(connectionString);

    public string Unprotect(string secret) => SecretProtection.Unprotect(_protector, secret);

    public Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken) =>
        ResolveAsync(name, anyTeam: true, team: null, cancellationToken);

    /// <summary>The resolver an attempt of a DAG owned by <paramref name="team"/> (or by none) gets.</summary>
    public IConnectionResolver For(string? team) => new TeamScoped(this, team);

    private async Task<ResolvedConnection?> ResolveAsync(string name, bool anyTeam, string? team, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnectionsDbContext>();
        var row = await db.Connections.AsNoTracking()
            .Where(c => c.Name == name && (anyTeam || c.Team == null || c.Team == team))
            .SingleOrDefaultAsync(cancellationToken);
        return row is null ? null : new ResolvedConnection(row.Name, row.Kind, Unprotect(row.Secret));
    }

    private sealed class TeamScoped(ConnectionSecrets secrets, string? team) : IConnectionResolver
    {
        public Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken) =>
            secrets.ResolveAsync(name, anyTeam: false, team, cancellationToken);
    }
}
