using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Access.Contracts;

namespace Scheduler.Modules.Access.Teams;

/// <summary>Teams by name, a page at a time: all of them for a global role, else the caller's own teams.</summary>
internal static class ListTeams
{
    public sealed record Query(int? Limit, string? Cursor, IReadOnlyList<string>? Visible) : IQuery<Page<TeamInfo>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
        }
    }

    public sealed class Handler(AccessDbContext db) : IQueryHandler<Query, Page<TeamInfo>>, IQueryHandler<FindTeams, IReadOnlySet<string>>
    {
        public async ValueTask<Page<TeamInfo>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var teams = db.Teams.AsNoTracking();
            if (after is not null)
                teams = teams.Where(t => string.Compare(t.Name, after) > 0);
            if (query.Visible is { } visible)
                teams = teams.Where(t => visible.Contains(t.Name));
            var rows = await teams.OrderBy(t => t.Name).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(rows.Select(TeamResponses.ToInfo).ToList(), limit, t => t.Name);
        }

        public async ValueTask<IReadOnlySet<string>> Handle(FindTeams query, CancellationToken cancellationToken)
        {
            var names = query.Names.ToList();
            return (await db.Teams.AsNoTracking().Where(t => names.Contains(t.Name)).Select(t => t.Name).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder teams) => teams
        .MapGet("/", async Task<Ok<Page<TeamInfo>>> (ISender sender, HttpContext http, CancellationToken ct, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor, TeamAccess.Of(http.User).VisibleTeams()), ct)))
        .WithName("ListTeams")
        .WithSummary("List teams (a caller with team roles only sees its own teams)")
        .RequireAuthorization(Policies.TeamViewer);
}
