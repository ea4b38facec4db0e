using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access.Sso;

/// <summary>What a sign-in through OIDC or LDAP came to.</summary>
internal enum SsoOutcome
{
    /// <summary>Signed in: the user row exists with the role of the moment.</summary>
    SignedIn,

    /// <summary>None of the user's groups maps to a role (global, or in an existing team): refused, and their open sessions end.</summary>
    NoRole,

    /// <summary>The name belongs to a user of another source (a local user, say): never taken over.</summary>
    OtherSource,

    /// <summary>The provider gave no usable username.</summary>
    BadUsername,

    /// <summary>The directory refused the username or password (LDAP).</summary>
    InvalidCredentials,

    /// <summary>The directory could not be asked (LDAP): nothing was decided.</summary>
    Unavailable,
}

/// <summary>
/// Records a user the identity provider or directory vouched for: created on the first sign-in
/// with its source, and given the role of its groups at every sign-in (a changed role gives a new
/// security stamp, which ends the sessions signed in with the old one). A user whose groups no
/// longer map to any role is refused and their sessions end. The last admin is never demoted by
/// a sign-in (the same guard as the users page): they keep admin, with a warning in the log.
/// </summary>
internal static class ExternalSignIn
{
    public const int MaxUsernameLength = 200;

    /// <param name="TeamRoles">Roles per team from the groups' <c>team:role</c> mappings; roles in teams that do not exist are dropped.</param>
    public sealed record Command(string Source, string? Username, string? Role, IReadOnlyDictionary<string, string>? TeamRoles = null) : ICommand<(SsoOutcome Outcome, UserInfo? User)>;

    /// <summary>A provider's username is shown and stored as is: printable, without spaces at the ends, at most 200 characters.</summary>
    public static bool IsUsableUsername(string? username) =>
        !string.IsNullOrEmpty(username) && username.Length <= MaxUsernameLength && username.Trim() == username && !username.Any(char.IsControl);

    public sealed class Handler(AccessDbContext db, TimeProvider clock, IMemoryCache cache, AuditTrail audit, ILogger<Command> log)
        : ICommandHandler<Command, (SsoOutcome Outcome, UserInfo? User)>
    {
        public async ValueTask<(SsoOutcome Outcome, UserInfo? User)> Handle(Command command, CancellationToken cancellationToken)
        {
            if (!IsUsableUsername(command.Username))
                return (SsoOutcome.BadUsername, null);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await TryAsync(command, cancellationToken);
                }
                catch (DbUpdateException e) when (attempt < 3 && e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
                {
                    // Two first sign-ins of one user at once: the other created the row; read it again.
                    db.ChangeTracker.Clear();
                }
            }
        }

        private async Task<(SsoOutcome, UserInfo?)> TryAsync(Command command, CancellationToken cancellationToken)
        {
            var now = clock.GetUtcNow();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var demotes = command.Role is not Roles.Admin;
            var existing = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Username == command.Username, cancellationToken);
            // The admins' locks first (as UpdateUser takes them), the user's row after.
            var lastAdmin = demotes && existing is { Role: Roles.Admin } && await IsLastAdminAsync(db, existing.Id, cancellationToken);
            var user = await db.Users.FromSql($"select * from access.users where username = {command.Username} for update")
                .SingleOrDefaultAsync(cancellationToken);
            if (user is not null && user.Source != command.Source)
            {
                await FailedAsync(command, user.Id, SsoOutcome.OtherSource, cancellationToken);
                await tx.CommitAsync(cancellationToken);
                return (SsoOutcome.OtherSource, null);
            }
            var teamNames = command.TeamRoles?.Keys.ToList() ?? [];
            var known = teamNames.Count == 0 ? [] : await db.Teams.AsNoTracking().Where(t => teamNames.Contains(t.Name)).Select(t => t.Name).ToListAsync(cancellationToken);
            var teamRoles = TeamRoleMaps.Serialize(command.TeamRoles?.Where(t => known.Contains(t.Key)).ToDictionary());
            // Team roles alone sign in (the pages show those teams only); neither a global nor a team role refuses.
            if (command.Role is null && known.Count == 0)
            {
                if (user is not null)
                {
                    user.SecurityStamp = NewStamp();
                    user.UpdatedAt = now;
                }
                await FailedAsync(command, user?.Id, SsoOutcome.NoRole, cancellationToken);
                await tx.CommitAsync(cancellationToken);
                if (user is not null)
                    AdminCookieSetup.Forget(cache, user.Id);
                return (SsoOutcome.NoRole, null);
            }
            if (user is null)
            {
                user = new User { Username = command.Username!, Role = command.Role, Source = command.Source, CreatedAt = now, CreatedBy = command.Source, UpdatedAt = now, TeamRoles = teamRoles };
                db.Users.Add(user);
            }
            else if (user.Role != command.Role)
            {
                if (lastAdmin && user.Role == Roles.Admin)
                {
                    log.LogWarning("{Source} user {User} keeps the admin role although their groups give {Role}: they are the last admin", command.Source, user.Username, command.Role);
                }
                else
                {
                    user.Role = command.Role;
                    user.SecurityStamp = NewStamp();
                    user.UpdatedAt = now;
                }
            }
            if (user.TeamRoles != teamRoles)
            {
                // New team roles end the sessions signed in with the old ones, as a new global role does.
                user.TeamRoles = teamRoles;
                user.SecurityStamp = NewStamp();
                user.UpdatedAt = now;
            }
            await db.SaveChangesAsync(cancellationToken);
            await audit.WriteAsync(db, "user.login", AuditTargets.User(user.Username), new() { ["source"] = command.Source, ["role"] = user.Role, ["roles"] = System.Text.Json.Nodes.JsonNode.Parse(user.TeamRoles) },
                cancellationToken, new AuditActor(AuditActor.User, user.Id, user.Username));
            await tx.CommitAsync(cancellationToken);
            AdminCookieSetup.Forget(cache, user.Id);
            return (SsoOutcome.SignedIn, ToInfo(user));
        }

        private Task FailedAsync(Command command, long? id, SsoOutcome outcome, CancellationToken cancellationToken) =>
            audit.SaveChangesAsync(db, "user.login_failed", AuditTargets.User(command.Username!), new() { ["source"] = command.Source, ["reason"] = outcome.ToString() },
                cancellationToken, new AuditActor(AuditActor.User, id, command.Username!));
    }
}
