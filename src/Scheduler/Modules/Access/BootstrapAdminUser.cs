using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Access;

/// <summary>
/// The first person who can sign in to /admin: <c>Auth:BootstrapAdminUser</c> with
/// <c>Auth:BootstrapAdminPassword</c>. Created once when no user of that name exists
/// (idempotent across restarts and replicas: the username is unique); an existing user is
/// never changed, so a password changed in the pages is not reset by the next restart.
/// </summary>
internal static class BootstrapAdminUser
{
    public static async Task EnsureAsync(IServiceProvider services, IConfiguration configuration, CancellationToken cancellationToken = default)
    {
        var username = configuration["Auth:BootstrapAdminUser"];
        var password = configuration["Auth:BootstrapAdminPassword"];
        if (string.IsNullOrWhiteSpace(username) || string.IsNullOrEmpty(password))
            return;
        if (password.Length < UserResponses.MinPasswordLength)
            throw new InvalidOperationException($"Auth:BootstrapAdminPassword must be at least {UserResponses.MinPasswordLength} characters.");
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccessDbContext>();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        var inserted = await db.Database.ExecuteSqlAsync($"""
            insert into access.users (username, role, password_hash, created_at, created_by, updated_at)
            values ({username}, {Roles.Admin}, {UserResponses.Hash(password)}, {now}, 'configuration', {now})
            on conflict (username) do nothing
            """, cancellationToken);
        if (inserted > 0)
            scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BootstrapAdminUser))
                .LogInformation("Bootstrap admin user {Username} from configuration created", username);
    }
}
