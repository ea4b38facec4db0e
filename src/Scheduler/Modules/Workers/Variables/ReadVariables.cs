using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Workers.Connections;
using static Scheduler.Modules.Workers.Variables.VariableResponses;

namespace Scheduler.Modules.Workers.Variables;

/// <summary>Variables by name, a page at a time, and one by name; never a secret's value.</summary>
internal static class ReadVariables
{
    /// <param name="Visible">The teams the caller sees (TeamAccess.VisibleTeams()), null: all.</param>
    public sealed record ListQuery(int? Limit, string? Cursor, IReadOnlyList<string>? Visible = null) : IQuery<Page<Info>>;

    public sealed record GetQuery(string Name) : IQuery<Info?>;

    public sealed class Validator : AbstractValidator<ListQuery>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
        }
    }

    public sealed class Handler(ConnectionsDbContext db) : IQueryHandler<ListQuery, Page<Info>>, IQueryHandler<GetQuery, Info?>
    {
        public async ValueTask<Page<Info>> Handle(ListQuery query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var rows = db.Variables.AsNoTracking();
            if (after is not null)
                rows = rows.Where(v => string.Compare(v.Name, after) > 0);
            if (query.Visible is { } visible)
                rows = rows.Where(v => v.Team != null && visible.Contains(v.Team));
            var page = await rows.OrderBy(v => v.Name).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(page.Select(ToInfo).ToList(), limit, v => v.Name);
        }

        public async ValueTask<Info?> Handle(GetQuery query, CancellationToken cancellationToken) =>
            await db.Variables.AsNoTracking().SingleOrDefaultAsync(v => v.Name == query.Name, cancellationToken) is { } row ? ToInfo(row) : null;
    }

    public static void Map(RouteGroupBuilder variables)
    {
        variables.MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, HttpContext http, CancellationToken ct, int? limit, string? cursor) =>
                TypedResults.Ok(await sender.Send(new ListQuery(limit, cursor, TeamAccess.Of(http.User).VisibleTeams()), ct)))
            .WithName("ListVariables").WithSummary("List variables (never a secret's value)");
        variables.MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new GetQuery(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No variable named '{name}'."))
            .WithName("GetVariable").WithSummary("One variable (never a secret's value)")
            .RequireVariableRole(Roles.Viewer);
    }
}
