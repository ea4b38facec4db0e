using Microsoft.AspNetCore.Identity;

namespace Scheduler.Modules.Access;

/// <summary>
/// Users of the admin pages (they have no API endpoints). Passwords are hashed with ASP.NET
/// Core's <see cref="PasswordHasher{TUser}"/> (PBKDF2, per-hash salt); a hash made with older
/// parameters is upgraded on the next sign-in.
/// </summary>
internal static class UserResponses
{
    public const int MinPasswordLength = 8;

    public sealed record UserInfo(long Id, string Username, string Role, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset UpdatedAt);

    public static readonly PasswordHasher<User> Hasher = new();

    public static string Hash(string password) => Hasher.HashPassword(null!, password);

    public static UserInfo ToInfo(User u) => new(u.Id, u.Username, u.Role, u.CreatedAt, u.CreatedBy, u.UpdatedAt);
}
