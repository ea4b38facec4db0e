using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Access;

internal static class ListApiKeys
{
    public sealed record KeyInfo(long Id, string Name, string? Role, string Prefix, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt,
        IReadOnlyDictionary<string, string> Roles);

    public sealed record Query(int? Limit, string? Cursor) : IQuery<Page<KeyInfo>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
        }
    }

    public sealed class Handler(AccessDbContext db) : IQueryHandler<Query, Page<KeyInfo>>
    {
        public async ValueTask<Page<KeyInfo>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var after);
            var afterId = after ?? 0;
            var rows = await db.ApiKeys.AsNoTracking()
                .Where(k => k.Id > afterId)
                .OrderBy(k => k.Id)
                .Take(limit + 1)
                .ToListAsync(cancellationToken);
            var items = rows.Select(k => new KeyInfo(k.Id, k.Name, k.Role, k.Prefix, k.CreatedAt, k.CreatedBy, k.ExpiresAt, k.RevokedAt, TeamRoleMaps.Parse(k.TeamRoles))).ToList();
            return Cursor.ToPage(items, limit, k => k.Id.ToString(CultureInfo.InvariantCulture));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder keys) => keys
        .MapGet("/", async Task<Ok<Page<KeyInfo>>> (ISender sender, CancellationToken ct, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor), ct)))
        .WithName("ListApiKeys")
        .WithSummary("List API keys (never the keys themselves)")
        .RequireAuthorization(Policies.Admin);
}
