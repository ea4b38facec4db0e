using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using static Scheduler.Modules.Workers.Connections.ConnectionResponses;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>Connections by name, a page at a time; never their secrets.</summary>
internal static class ListConnections
{
    /// <param name="Visible">The teams the caller sees (TeamAccess.VisibleTeams(Roles.Admin)), null: all.</param>
    public sealed record Query(int? Limit, string? Cursor, IReadOnlyList<string>? Visible = null) : IQuery<Page<Info>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
        }
    }

    public sealed class Handler(ConnectionsDbContext db, ConnectionSecrets secrets) : IQueryHandler<Query, Page<Info>>
    {
        public async ValueTask<Page<Info>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var rows = db.Connections.AsNoTracking();
            if (after is not null)
                rows = rows.Where(c => string.Compare(c.Name, after) > 0);
            if (query.Visible is { } visible)
                rows = rows.Where(c => c.Team != null && visible.Contains(c.Team));
            var page = await rows.OrderBy(c => c.Name).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(page.Select(c => ToInfo(c, secrets)).ToList(), limit, c => c.Name);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder connections) => connections
        .MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, HttpContext http, CancellationToken ct, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor, TeamAccess.Of(http.User).VisibleTeams(Roles.Admin)), ct)))
        .WithName("ListConnections").WithSummary("List connections (never their secrets); a team admin sees its team's")
        .RequireAuthorization(Policies.TeamAdmin);
}
