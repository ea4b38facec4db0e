using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Security;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>
/// Encrypts connection strings at rest with ASP.NET Data Protection (keys in PostgreSQL,
/// rotated by the framework) and decrypts them for executors only.
/// </summary>
internal sealed class ConnectionSecrets(IDataProtectionProvider provider, IServiceScopeFactory scopes) : IConnectionResolver
{
    private readonly IDataProtector _protector = provider.CreateProtector("Scheduler.Connections.v1");

    public string Protect(string connectionString) => _protector.Protect(connectionString);

    public string Unprotect(string secret) => SecretProtection.Unprotect(_protector, secret);

    public async Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnectionsDbContext>();
        var row = await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Name == name, cancellationToken);
        return row is null ? null : new ResolvedConnection(row.Name, row.Kind, Unprotect(row.Secret));
    }
}
