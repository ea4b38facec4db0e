using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>
/// Changes a user's role and/or sets a new password. Either change gives the user a new
/// security stamp, which ends every session signed in before it (see AdminCookieSetup).
/// The last admin cannot be demoted (<see cref="Change.LastAdmin"/>); a user who signs in with
/// SSO cannot get a password (<see cref="Change.NotLocal"/>), and their role is set again from
/// their groups at their next sign-in. Team roles (<see cref="Command.TeamRoles"/>) replace the
/// user's whole map; a role of <c>""</c> removes the global role (team roles only), which needs
/// at least one team role.
/// </summary>
internal static class UpdateUser
{
    /// <param name="Role">The new global role; null: unchanged; "": none (team roles only).</param>
    /// <param name="TeamRoles">The new roles per team (the whole map; empty: none); null: unchanged.</param>
    public sealed record Command(long Id, string? Role, string? Password, IReadOnlyDictionary<string, string>? TeamRoles = null) : ICommand<(Change Change, UserInfo? User)>;

    /// <summary>No global role and no team role left: the user could not sign in (a 400 keyed <c>role</c>).</summary>
    public const string NoRoleLeft = "a user needs a global role or at least one team role.";

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(ISender sender)
        {
            RuleFor(c => c.Role).Must(r => Roles.All.Contains(r!)).WithMessage($"'role' must be one of {string.Join(", ", Roles.All)} (or empty for team roles only).")
                .When(c => !string.IsNullOrEmpty(c.Role));
            RuleFor(c => c.Role).Must((c, _) => c.TeamRoles is null || c.TeamRoles.Count > 0).WithMessage(NoRoleLeft).When(c => c.Role == "");
            TeamRoleMaps.Check(this, c => c.TeamRoles, sender);
            RuleFor(c => c.Password).MinimumLength(MinPasswordLength).MaximumLength(200)
                .WithMessage($"'password' must be {MinPasswordLength} to 200 characters.").When(c => c.Password is not null);
        }
    }

    public sealed class Handler(AccessDbContext db, TimeProvider clock, IMemoryCache cache, AuditTrail audit) : ICommandHandler<Command, (Change Change, UserInfo? User)>
    {
        public async ValueTask<(Change Change, UserInfo? User)> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            // The admins' locks first, the user's row after: read under the locks, it is current.
            var lastAdmin = command.Role is not null and not Roles.Admin && await IsLastAdminAsync(db, command.Id, cancellationToken);
            var user = await db.Users.SingleOrDefaultAsync(u => u.Id == command.Id, cancellationToken);
            if (user is null)
                return (Change.NotFound, null);
            if (command.Password is not null && user.Source != UserSources.Local)
                return (Change.NotLocal, ToInfo(user));
            var newRole = command.Role == "" ? null : command.Role ?? user.Role;
            var roleChanges = command.Role is not null && newRole != user.Role;
            var teamRoles = command.TeamRoles is null ? user.TeamRoles : TeamRoleMaps.Serialize(command.TeamRoles);
            var teamsChange = teamRoles != user.TeamRoles;
            if (roleChanges && lastAdmin)
                return (Change.LastAdmin, ToInfo(user));
            if (newRole is null && TeamRoleMaps.Parse(teamRoles).Count == 0)
                throw new ValidationException([new FluentValidation.Results.ValidationFailure("role", NoRoleLeft)]);
            if (!roleChanges && !teamsChange && command.Password is null)
                return (Change.Done, ToInfo(user));
            user.Role = newRole;
            user.TeamRoles = teamRoles;
            if (command.Password is not null)
                user.PasswordHash = Hasher.HashPassword(user, command.Password);
            user.SecurityStamp = NewStamp();
            user.UpdatedAt = clock.GetUtcNow();
            var changed = new List<string>();
            var details = new System.Text.Json.Nodes.JsonObject();
            if (roleChanges)
            {
                changed.Add("role");
                details["role"] = user.Role;
            }
            if (teamsChange)
            {
                changed.Add("roles");
                details["roles"] = System.Text.Json.Nodes.JsonNode.Parse(user.TeamRoles);
            }
            if (command.Password is not null)
                changed.Add("password");
            await audit.SaveChangesAsync(db, "user.update", AuditTargets.User(user.Username), AuditTrail.Changed(changed, details.Count > 0 ? details : null), cancellationToken);
            await tx.CommitAsync(cancellationToken);
            AdminCookieSetup.Forget(cache, user.Id);
            return (Change.Done, ToInfo(user));
        }
    }
}
