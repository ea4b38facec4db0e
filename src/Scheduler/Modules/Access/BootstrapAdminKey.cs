using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Access;

/// <summary>
/// Makes sure a fresh installation can be administered. With <c>Auth:BootstrapAdminKey</c>
/// set, that key exists as an admin key (idempotent across restarts and replicas: the hash
/// is unique). Without it, and with no usable admin key in the database, one is generated
/// into <c>Auth:BootstrapKeyFile</c> (default <c>data/bootstrap-admin-key</c> under the
/// content root), readable by the server's user only (0600), so the operator can create
/// proper keys and then revoke it. The log names the file and the key's prefix, never the
/// key: logs are shipped and kept where secrets must not be. The file is written before the
/// key is stored, so a key nobody can read is never created.
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
        var prefix = ApiKeySecrets.DisplayPrefix(secret);
        var path = KeyFilePath(configuration, scope.ServiceProvider.GetRequiredService<IHostEnvironment>());
        try
        {
            await WriteSecretFileAsync(path, secret, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("No admin API key exists and none could be generated: {Path} is not writable ({Reason}). Set Auth__BootstrapAdminKey, or Auth__BootstrapKeyFile to a writable path",
                path, e.GetType().Name);
            return;
        }
        db.ApiKeys.Add(new ApiKey { Name = Name, Role = Roles.Admin, KeyHash = ApiKeySecrets.Hash(secret), Prefix = prefix, CreatedAt = now, CreatedBy = "generated" });
        await db.SaveChangesAsync(cancellationToken);
        logger.LogWarning("No admin API key existed; generated one ({KeyPrefix}...) into {Path} (mode 0600). Use it to create your own keys, then revoke it and delete the file",
            prefix, path);
    }

    public static string KeyFilePath(IConfiguration configuration, IHostEnvironment environment) =>
        Path.GetFullPath(configuration["Auth:BootstrapKeyFile"] is { Length: > 0 } configured
            ? Path.Combine(environment.ContentRootPath, configured)
            : Path.Combine(environment.ContentRootPath, "data", "bootstrap-admin-key"));

    /// <summary>
    /// Writes through a new file created with mode 0600 (never a moment readable by others),
    /// then renames it over <paramref name="path"/>; its folder is created 0700 when missing.
    /// </summary>
    private static async Task WriteSecretFileAsync(string path, string secret, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(path)!;
        var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        else
            Directory.CreateDirectory(folder);
        try
        {
            await using (var file = new FileStream(temporary, options))
            await using (var writer = new StreamWriter(file))
                await writer.WriteLineAsync(secret.AsMemory(), cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
