using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;

namespace Scheduler.Modules.Access;

/// <summary>
/// Users of the admin pages: sign-in (password check), and the admin's list, create, change
/// and delete. Passwords are hashed with ASP.NET Core's <see cref="PasswordHasher{TUser}"/>
/// (PBKDF2, per-hash salt); a hash made with older parameters is upgraded on the next sign-in.
/// </summary>
internal static class ManageUsers
{
    public const int MinPasswordLength = 8;

    public sealed record UserInfo(long Id, string Username, string Role, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset UpdatedAt);

    public sealed record SignIn(string? Username, string? Password) : IQuery<UserInfo?>;

    public sealed record GetById(long Id) : IQuery<UserInfo?>;

    public sealed record List(int? Limit, string? Cursor) : IQuery<Page<UserInfo>>;

    /// <summary>Null when the username is taken.</summary>
    public sealed record Create(string? Username, string? Role, string? Password, string? Actor) : ICommand<UserInfo?>;

    /// <summary>Changes the role and/or sets a new password; null when there is no such user.</summary>
    public sealed record Update(long Id, string? Role, string? Password) : ICommand<UserInfo?>;

    public sealed record Delete(long Id) : ICommand<bool>;

    private static readonly PasswordHasher<User> Hasher = new();

    public sealed class CreateValidator : AbstractValidator<Create>
    {
        public CreateValidator()
        {
            RuleFor(c => c.Username).NotEmpty().Matches(Names.Pattern()).WithMessage($"'username' must match {Names.PatternText}.");
            RuleFor(c => c.Role).Must(r => Roles.All.Contains(r!)).WithMessage($"'role' must be one of {string.Join(", ", Roles.All)}.");
            RuleFor(c => c.Password).NotEmpty().MinimumLength(MinPasswordLength).MaximumLength(200)
                .WithMessage($"'password' must be {MinPasswordLength} to 200 characters.");
        }
    }

    public sealed class UpdateValidator : AbstractValidator<Update>
    {
        public UpdateValidator()
        {
            RuleFor(c => c.Role).Must(r => Roles.All.Contains(r!)).WithMessage($"'role' must be one of {string.Join(", ", Roles.All)}.")
                .When(c => c.Role is not null);
            RuleFor(c => c.Password).MinimumLength(MinPasswordLength).MaximumLength(200)
                .WithMessage($"'password' must be {MinPasswordLength} to 200 characters.").When(c => c.Password is not null);
        }
    }

    public sealed class ListValidator : AbstractValidator<List>
    {
        public ListValidator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).Must(c => Cursor.TryDecode(c, out var key) && (key is null || long.TryParse(key, out _)))
                .WithMessage("'cursor' is not a cursor this server issued.");
        }
    }

    internal static string Hash(string password) => Hasher.HashPassword(null!, password);

    private static UserInfo ToInfo(User u) => new(u.Id, u.Username, u.Role, u.CreatedAt, u.CreatedBy, u.UpdatedAt);

    public sealed class Handler(AccessDbContext db, TimeProvider clock) :
        IQueryHandler<SignIn, UserInfo?>, IQueryHandler<GetById, UserInfo?>, IQueryHandler<List, Page<UserInfo>>,
        ICommandHandler<Create, UserInfo?>, ICommandHandler<Update, UserInfo?>, ICommandHandler<Delete, bool>
    {
        public async ValueTask<UserInfo?> Handle(SignIn query, CancellationToken cancellationToken)
        {
            if (string.IsNullOrEmpty(query.Username) || string.IsNullOrEmpty(query.Password) || query.Password.Length > 200)
                return null;
            var user = await db.Users.SingleOrDefaultAsync(u => u.Username == query.Username, cancellationToken);
            if (user is null)
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

        private static readonly string DummyHash = Hasher.HashPassword(null!, "not-a-password-of-anyone");

        public async ValueTask<UserInfo?> Handle(GetById query, CancellationToken cancellationToken) =>
            await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == query.Id, cancellationToken) is { } u ? ToInfo(u) : null;

        public async ValueTask<Page<UserInfo>> Handle(List query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var afterId = after is null ? 0 : long.Parse(after, CultureInfo.InvariantCulture);
            var users = await db.Users.AsNoTracking().Where(u => u.Id > afterId).OrderBy(u => u.Id).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(users.Select(ToInfo).ToList(), limit, u => u.Id.ToString(CultureInfo.InvariantCulture));
        }

        public async ValueTask<UserInfo?> Handle(Create command, CancellationToken cancellationToken)
        {
            var now = clock.GetUtcNow();
            var user = new User { Username = command.Username!, Role = command.Role!, PasswordHash = Hash(command.Password!), CreatedAt = now, CreatedBy = command.Actor, UpdatedAt = now };
            db.Users.Add(user);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return null;
            }
            return ToInfo(user);
        }

        public async ValueTask<UserInfo?> Handle(Update command, CancellationToken cancellationToken)
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

        public async ValueTask<bool> Handle(Delete command, CancellationToken cancellationToken) =>
            await db.Users.Where(u => u.Id == command.Id).ExecuteDeleteAsync(cancellationToken) > 0;
    }
}
