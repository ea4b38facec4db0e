using Mediator;
using Microsoft.EntityFrameworkCore;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>One user by id, or null (the admin cookie re-reads its user through this).</summary>
internal static class GetUser
{
    public sealed record Query(long Id) : IQuery<UserInfo?>;

    public sealed class Handler(AccessDbContext db) : IQueryHandler<Query, UserInfo?>
    {
        public async ValueTask<UserInfo?> Handle(Query query, CancellationToken cancellationToken) =>
            await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == query.Id, cancellationToken) is { } u ? ToInfo(u) : null;
    }
}
