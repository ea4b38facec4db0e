using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Access;

/// <summary>
/// Users of the admin pages (they have no API endpoints), local or signed in with SSO. Passwords are hashed with ASP.NET
/// Core's <see cref="PasswordHasher{TUser}"/> (PBKDF2, per-hash salt); a hash made with older
/// parameters is upgraded on the next sign-in.
/// </summary>
internal static class UserResponses
{
    public const int MinPasswordLength = 8;

    /// <summary>
    /// What a change of a user came to: <see cref="LastAdmin"/> refuses to leave the pages without an
    /// admin; <see cref="NotLocal"/> refuses a password for a user who signs in with SSO.
    /// </summary>
    public enum Change { Done, NotFound, LastAdmin, NotLocal }

    /// <summary>
    /// Locks every admin's row (in id order, so two changes never deadlock) and tells whether
    /// <paramref name="userId"/> is the only admin left. Changes that could remove an admin take
    /// these locks first, so two admins demoting or deleting each other at once are serialised:
    /// the second sees the first's result and is refused instead of leaving no admin. A
    /// promotion at the same time is not seen (a conservative refusal, never zero admins).
    /// Call inside a transaction.
    /// </summary>
    public static async Task<bool> IsLastAdminAsync(AccessDbContext db, long userId, CancellationToken cancellationToken)
    {
        var admins = await db.Users.FromSql($"select * from access.users where role = {Roles.Admin} order by id for update")
            .AsNoTracking().ToListAsync(cancellationToken);
        return admins.Count > 0 && admins.All(a => a.Id == userId);
    }

    /// <param name="Roles">Roles per team (from SSO group mappings <c>team:role</c> or the users page), besides the global <paramref name="Role"/> (null: team roles only).</param>
    public sealed record UserInfo(long Id, string Username, string? Role, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset UpdatedAt, string SecurityStamp, string Source,
        IReadOnlyDictionary<string, string>? Roles = null);

    public static readonly PasswordHasher<User> Hasher = new();

    public static string Hash(string password) => Hasher.HashPassword(null!, password);

    public static UserInfo ToInfo(User u) => new(u.Id, u.Username, u.Role, u.CreatedAt, u.CreatedBy, u.UpdatedAt, u.SecurityStamp, u.Source, TeamRoleMaps.Parse(u.TeamRoles));

    /// <summary>A fresh security stamp: 128 random bits, so no old cookie can match it by chance.</summary>
    public static string NewStamp() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}
