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
/// their groups at their next sign-in.
/// </summary>
internal static class UpdateUser
{
    public sealed record Command(long Id, string? Role, string? Password) : ICommand<(Change Change, UserInfo? User)>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Role).Must(r => Roles.All.Contains(r!)).WithMessage($"'role' must be one of {string.Join(", ", Roles.All)}.")
                .When(c => c.Role is not null);
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
            var roleChanges = command.Role is not null && command.Role != user.Role;
            if (roleChanges && lastAdmin)
                return (Change.LastAdmin, ToInfo(user));
            if (!roleChanges && command.Password is null)
                return (Change.Done, ToInfo(user));
            if (roleChanges)
                user.Role = command.Role!;
            if (command.Password is not null)
                user.PasswordHash = Hasher.HashPassword(user, command.Password);
            user.SecurityStamp = NewStamp();
            user.UpdatedAt = clock.GetUtcNow();
            var changed = new List<string>();
            if (roleChanges)
                changed.Add("role");
            if (command.Password is not null)
                changed.Add("password");
            await audit.SaveChangesAsync(db, "user.update", AuditTargets.User(user.Username), AuditTrail.Changed(changed, roleChanges ? new() { ["role"] = user.Role } : null), cancellationToken);
            await tx.CommitAsync(cancellationToken);
            AdminCookieSetup.Forget(cache, user.Id);
            return (Change.Done, ToInfo(user));
        }
    }
}
