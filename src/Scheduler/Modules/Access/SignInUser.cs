using Mediator;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>
/// The admin pages' local sign-in: the user when the password matches, else null (unknown user,
/// wrong password, or a user who signs in with SSO and has no password here, alike).
/// </summary>
internal static class SignInUser
{
    public sealed record Query(string? Username, string? Password) : IQuery<UserInfo?>;

    public sealed class Handler(AccessDbContext db) : IQueryHandler<Query, UserInfo?>
    {
        private static readonly string DummyHash = Hasher.HashPassword(null!, "not-a-password-of-anyone");

        public async ValueTask<UserInfo?> Handle(Query query, CancellationToken cancellationToken)
        {
            if (string.IsNullOrEmpty(query.Username) || string.IsNullOrEmpty(query.Password) || query.Password.Length > 200)
                return null;
            var user = await db.Users.SingleOrDefaultAsync(u => u.Username == query.Username, cancellationToken);
            if (user?.PasswordHash is null)
            {
                // The same work as a real check, so response times do not reveal which usernames exist.
                Hasher.VerifyHashedPassword(null!, DummyHash, query.Password);
                return null;
            }
            var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, query.Password);
            if (result == PasswordVerificationResult.Failed)
                return null;
            if (result == PasswordVerificationResult.SuccessRehashNeeded)
            {
                user.PasswordHash = Hasher.HashPassword(user, query.Password);
                await db.SaveChangesAsync(cancellationToken);
            }
            return ToInfo(user);
        }
    }
}
