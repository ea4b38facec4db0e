using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Dags;

internal static class ListDags
{
    /// <param name="Visible">The teams the caller sees (TeamAccess.VisibleTeams()), null: all.</param>
    public sealed record Query(int? Limit, string? Cursor, string? Tag, bool? Paused, string? Q, IReadOnlyList<string>? Visible = null, string? Team = null) : IQuery<Page<DagSummary>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
            RuleFor(q => q.Q).MaximumLength(200);
            RuleFor(q => q.Tag).MaximumLength(100);
            RuleFor(q => q.Team).MaximumLength(200);
        }
    }

    /// <summary>Ordered by name; keyset paging on the unique name index.</summary>
    public sealed class Handler(DagsDbContext db, ISender sender) : IQueryHandler<Query, Page<DagSummary>>
    {
        public async ValueTask<Page<DagSummary>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var dags = db.Dags.AsNoTracking();
            if (after is not null)
                dags = dags.Where(d => string.Compare(d.Name, after) > 0);
            if (!string.IsNullOrEmpty(query.Tag))
                dags = dags.Where(d => d.Tags.Contains(query.Tag));
            if (query.Visible is { } visible)
                dags = dags.Where(d => d.Team != null && visible.Contains(d.Team));
            if (!string.IsNullOrEmpty(query.Team))
                dags = dags.Where(d => d.Team == query.Team);
            if (query.Paused is { } paused)
                dags = dags.Where(d => d.Paused == paused);
            if (!string.IsNullOrEmpty(query.Q))
            {
                var pattern = "%" + query.Q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
                dags = dags.Where(d => EF.Functions.ILike(d.Name, pattern, "\\"));
            }
            var rows = await dags
                .OrderBy(d => d.Name)
                .Take(limit + 1)
                .Select(d => new { d.Name, d.Description, d.Owner, d.Tags, d.Paused, d.Version, d.Cron, d.IntervalSeconds, d.Timezone, d.TaskCount, d.NextRunAt, d.UpdatedAt, d.Team })
                .ToListAsync(cancellationToken);
            var last = await sender.Send(new GetLastRunStates(rows.Take(limit).Select(d => d.Name).ToList()), cancellationToken);
            var items = rows.Select(d => new DagSummary(d.Name, d.Description, d.Owner, d.Tags, d.Paused, d.Version, d.Cron,
                DagMapping.IntervalText(d.IntervalSeconds), d.Timezone, d.TaskCount, d.NextRunAt, last.GetValueOrDefault(d.Name), d.UpdatedAt) { Team = d.Team }).ToList();
            return Cursor.ToPage(items, limit, d => d.Name);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapGet("/", async Task<Ok<Page<DagSummary>>> (ISender sender, HttpContext http, CancellationToken ct, int? limit, string? cursor, string? tag, bool? paused, string? q, string? team) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor, tag, paused, q, TeamAccess.Of(http.User).VisibleTeams(), team), ct)))
        .WithName("ListDags")
        .WithSummary("List DAGs by name, filtered by tag, paused state, team or a name fragment (q); only the DAGs the caller may see")
        .RequireAuthorization(Policies.TeamViewer);
}
