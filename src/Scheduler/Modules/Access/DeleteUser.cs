using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>
/// Deletes a user and revokes the API keys they created in the admin pages, in one
/// transaction: their sessions end (no row to match the cookie) and their keys stop working,
/// at once on this replica and within the caches' lifetimes (AdminCookieSetup.RecheckEvery,
/// ApiKeyAuthenticationHandler.CacheFor) on the others. The last admin cannot be deleted.
/// </summary>
internal static class DeleteUser
{
    public sealed record Command(long Id) : ICommand<Change>;

    public sealed class Handler(AccessDbContext db, TimeProvider clock, IMemoryCache cache, AuditTrail audit) : ICommandHandler<Command, Change>
    {
        public async ValueTask<Change> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var lastAdmin = await IsLastAdminAsync(db, command.Id, cancellationToken);
            var user = await db.Users.SingleOrDefaultAsync(u => u.Id == command.Id, cancellationToken);
            if (user is null)
                return Change.NotFound;
            if (lastAdmin)
                return Change.LastAdmin;
            var keys = await RemoveAsync(db, user, clock.GetUtcNow(), cancellationToken);
            await audit.SaveChangesAsync(db, "user.delete", AuditTargets.User(user.Username), new() { ["revoked_keys"] = keys.Count }, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            Forget(cache, user, keys);
            return Change.Done;
        }
    }

    /// <summary>Marks the user removed and the keys they created revoked (saved by the caller, in its transaction); returns those keys.</summary>
    public static async Task<List<ApiKey>> RemoveAsync(AccessDbContext db, User user, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var keys = await db.ApiKeys.Where(k => k.CreatedByUserId == user.Id && k.RevokedAt == null).ToListAsync(cancellationToken);
        foreach (var key in keys)
            key.RevokedAt = now;
        db.Users.Remove(user);
        return keys;
    }

    /// <summary>After the commit: this replica stops honouring the user's session and keys at once.</summary>
    public static void Forget(IMemoryCache cache, User user, IEnumerable<ApiKey> keys)
    {
        foreach (var key in keys)
            cache.Remove(ApiKeyAuthenticationHandler.CacheKey(key.KeyHash));
        AdminCookieSetup.Forget(cache, user.Id);
    }
}
