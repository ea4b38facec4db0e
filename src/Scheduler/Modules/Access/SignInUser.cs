using Mediator;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>
/// The admin pages' local sign-in: the user when the password matches, else null (unknown user,
/// wrong password, or a user who signs in with SSO and has no password here, alike).
/// Either way the audit trail records it (<c>user.login</c>, <c>user.login_failed</c> under the name tried).
/// </summary>
internal static class SignInUser
{
    /// <param name="RecordFailure">False when another check (LDAP) follows a failed local one and records the outcome itself.</param>
    public sealed record Query(string? Username, string? Password, bool RecordFailure = true) : IQuery<UserInfo?>;

    public sealed class Handler(AccessDbContext db, AuditTrail audit) : IQueryHandler<Query, UserInfo?>
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
                return query.RecordFailure ? await FailedAsync(query.Username, null, cancellationToken) : null;
            }
            var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, query.Password);
            if (result == PasswordVerificationResult.Failed)
                return query.RecordFailure ? await FailedAsync(user.Username, user.Id, cancellationToken) : null;
            if (result == PasswordVerificationResult.SuccessRehashNeeded)
                user.PasswordHash = Hasher.HashPassword(user, query.Password);
            await audit.SaveChangesAsync(db, "user.login", AuditTargets.User(user.Username), null, cancellationToken, new AuditActor(AuditActor.User, user.Id, user.Username));
            return ToInfo(user);
        }

        private async Task<UserInfo?> FailedAsync(string username, long? id, CancellationToken cancellationToken)
        {
            await audit.SaveChangesAsync(db, "user.login_failed", AuditTargets.User(username), new() { ["known_user"] = id is not null }, cancellationToken,
                new AuditActor(AuditActor.User, id, username));
            return null;
        }
    }
}
