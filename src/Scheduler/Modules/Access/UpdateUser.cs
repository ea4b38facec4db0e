using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>Changes a user's role and/or sets a new password; null when there is no such user.</summary>
internal static class UpdateUser
{
    public sealed record Command(long Id, string? Role, string? Password) : ICommand<UserInfo?>;

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

    public sealed class Handler(AccessDbContext db, TimeProvider clock) : ICommandHandler<Command, UserInfo?>
    {
        public async ValueTask<UserInfo?> Handle(Command command, CancellationToken cancellationToken)
        {
            var user = await db.Users.SingleOrDefaultAsync(u => u.Id == command.Id, cancellationToken);
            if (user is null)
                return null;
            if (command.Role is not null)
                user.Role = command.Role;
            if (command.Password is not null)
                user.PasswordHash = Hasher.HashPassword(user, command.Password);
            user.UpdatedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            return ToInfo(user);
        }
    }
}
