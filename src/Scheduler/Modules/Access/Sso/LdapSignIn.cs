using Mediator;
using Microsoft.EntityFrameworkCore;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access.Sso;

/// <summary>
/// The login form's username and password checked against the LDAP directory (after the local
/// check failed): a local user's name never goes to the directory, so a directory entry of the
/// same name cannot sign in as them. Groups map to the role (<see cref="LdapSettings"/>).
/// </summary>
internal static class LdapSignIn
{
    public sealed record Command(string? Username, string? Password) : ICommand<(SsoOutcome Outcome, UserInfo? User)>;

    public sealed class Handler(AccessDbContext db, SsoConfig sso, ISender sender, AuditTrail audit, ILogger<Command> log)
        : ICommandHandler<Command, (SsoOutcome Outcome, UserInfo? User)>
    {
        public async ValueTask<(SsoOutcome Outcome, UserInfo? User)> Handle(Command command, CancellationToken cancellationToken)
        {
            var (outcome, user) = await CheckAsync(command, cancellationToken);
            // Signed in or refused by the mapping: ExternalSignIn recorded it. Refused here: recorded here.
            if (outcome is SsoOutcome.InvalidCredentials or SsoOutcome.Unavailable or SsoOutcome.BadUsername && !string.IsNullOrEmpty(command.Username))
                await audit.SaveChangesAsync(db, "user.login_failed", AuditTargets.User(command.Username[..Math.Min(command.Username.Length, ExternalSignIn.MaxUsernameLength)]),
                    new() { ["source"] = UserSources.Ldap, ["reason"] = outcome.ToString() }, cancellationToken, new AuditActor(AuditActor.User, null, command.Username));
            return (outcome, user);
        }

        private async Task<(SsoOutcome Outcome, UserInfo? User)> CheckAsync(Command command, CancellationToken cancellationToken)
        {
            if (sso.Ldap is not { } settings)
                return (SsoOutcome.InvalidCredentials, null);
            if (!ExternalSignIn.IsUsableUsername(command.Username) || string.IsNullOrEmpty(command.Password) || command.Password.Length > 200)
                return (SsoOutcome.InvalidCredentials, null);
            if (await db.Users.AsNoTracking().AnyAsync(u => u.Username == command.Username && u.Source != UserSources.Ldap, cancellationToken))
                return (SsoOutcome.InvalidCredentials, null);
            LdapAccount? account;
            try
            {
                account = await new LdapDirectory(settings).VerifyAsync(command.Username!, command.Password, cancellationToken);
            }
            catch (LdapUnavailableException e)
            {
                log.LogError(e, "LDAP sign-in of {User} could not be checked", command.Username);
                return (SsoOutcome.Unavailable, null);
            }
            if (account is null)
                return (SsoOutcome.InvalidCredentials, null);
            var role = settings.Mappings.GlobalRole(account.Groups);
            return await sender.Send(new ExternalSignIn.Command(UserSources.Ldap, command.Username, role, settings.Mappings.TeamRoles(account.Groups)), cancellationToken);
        }
    }
}
