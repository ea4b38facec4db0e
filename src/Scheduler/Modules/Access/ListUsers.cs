using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>Users in the order they were created, a page at a time.</summary>
internal static class ListUsers
{
    public sealed record Query(int? Limit, string? Cursor) : IQuery<Page<UserInfo>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
        }
    }

    public sealed class Handler(AccessDbContext db) : IQueryHandler<Query, Page<UserInfo>>
    {
        public async ValueTask<Page<UserInfo>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var after);
            var afterId = after ?? 0;
            var users = await db.Users.AsNoTracking().Where(u => u.Id > afterId).OrderBy(u => u.Id).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(users.Select(ToInfo).ToList(), limit, u => u.Id.ToString(CultureInfo.InvariantCulture));
        }
    }
}
