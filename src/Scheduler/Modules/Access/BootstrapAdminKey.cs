using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Access;

/// <summary>
/// Makes sure a fresh installation can be administered. With <c>Auth:BootstrapAdminKey</c>
/// set, that key exists as an admin key (idempotent across restarts and replicas: the hash
/// is unique). Without it, and with no usable admin key in the database, one is generated
/// and logged once, so the operator can create proper keys and then revoke it.
/// </summary>
internal static class BootstrapAdminKey
{
    public const string Name = "bootstrap-admin";

    public static async Task EnsureAsync(IServiceProvider services, IConfiguration configuration, CancellationToken cancellationToken = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccessDbContext>();
        var clock = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BootstrapAdminKey));
        var configured = configuration["Auth:BootstrapAdminKey"];
        var now = clock.GetUtcNow();

        if (!string.IsNullOrWhiteSpace(configured))
        {
            if (configured.Length < 20)
                throw new InvalidOperationException("Auth:BootstrapAdminKey must be at least 20 characters.");
            var hash = ApiKeySecrets.Hash(configured);
            var inserted = await db.Database.ExecuteSqlAsync($"""
                insert into access.api_keys (name, role, key_hash, prefix, created_at, created_by)
                values ({Name}, {Roles.Admin}, {hash}, {ApiKeySecrets.DisplayPrefix(configured)}, {now}, 'configuration')
                on conflict (key_hash) do nothing
                """, cancellationToken);
            if (inserted > 0)
                logger.LogInformation("Bootstrap admin key from configuration registered");
            return;
        }

        var hasAdmin = await db.ApiKeys.AnyAsync(k => k.Role == Roles.Admin && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now), cancellationToken);
        if (hasAdmin)
            return;
        var secret = ApiKeySecrets.Generate();
        db.ApiKeys.Add(new ApiKey { Name = Name, Role = Roles.Admin, KeyHash = ApiKeySecrets.Hash(secret), Prefix = ApiKeySecrets.DisplayPrefix(secret), CreatedAt = now, CreatedBy = "generated" });
        await db.SaveChangesAsync(cancellationToken);
        logger.LogWarning("No admin API key existed; generated one. Use it to create your own keys, then revoke it: {BootstrapAdminKey}", secret);
    }
}
