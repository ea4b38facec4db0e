using Mediator;
using Microsoft.EntityFrameworkCore;
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

    public sealed class Handler(AccessDbContext db, SsoConfig sso, ISender sender, ILogger<Command> log)
        : ICommandHandler<Command, (SsoOutcome Outcome, UserInfo? User)>
    {
        public async ValueTask<(SsoOutcome Outcome, UserInfo? User)> Handle(Command command, CancellationToken cancellationToken)
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
            return await sender.Send(new ExternalSignIn.Command(UserSources.Ldap, command.Username, role), cancellationToken);
        }
    }
}
