using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>Creates a user; null when the username is taken (the unique key decides, so two at once cannot both win).</summary>
internal static class CreateUser
{
    public sealed record Command(string? Username, string? Role, string? Password, string? Actor) : ICommand<UserInfo?>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Username).NotEmpty().Matches(Names.Pattern()).WithMessage($"'username' must match {Names.PatternText}.");
            RuleFor(c => c.Role).Must(r => Roles.All.Contains(r!)).WithMessage($"'role' must be one of {string.Join(", ", Roles.All)}.");
            RuleFor(c => c.Password).NotEmpty().MinimumLength(MinPasswordLength).MaximumLength(200)
                .WithMessage($"'password' must be {MinPasswordLength} to 200 characters.");
        }
    }

    public sealed class Handler(AccessDbContext db, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, UserInfo?>
    {
        public async ValueTask<UserInfo?> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = clock.GetUtcNow();
            var user = new User { Username = command.Username!, Role = command.Role!, PasswordHash = Hash(command.Password!), CreatedAt = now, CreatedBy = command.Actor, UpdatedAt = now };
            db.Users.Add(user);
            try
            {
                await audit.SaveChangesAsync(db, "user.create", AuditTargets.User(user.Username), new() { ["role"] = user.Role }, cancellationToken);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return null;
            }
            return ToInfo(user);
        }
    }
}
