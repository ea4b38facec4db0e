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
    public sealed record Query(int? Limit, string? Cursor, string? Tag, bool? Paused, string? Q) : IQuery<Page<DagSummary>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
            RuleFor(q => q.Q).MaximumLength(200);
            RuleFor(q => q.Tag).MaximumLength(100);
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
                .Select(d => new { d.Name, d.Description, d.Owner, d.Tags, d.Paused, d.Version, d.Cron, d.IntervalSeconds, d.Timezone, d.TaskCount, d.NextRunAt, d.UpdatedAt })
                .ToListAsync(cancellationToken);
            var last = await sender.Send(new GetLastRunStates(rows.Take(limit).Select(d => d.Name).ToList()), cancellationToken);
            var items = rows.Select(d => new DagSummary(d.Name, d.Description, d.Owner, d.Tags, d.Paused, d.Version, d.Cron,
                DagMapping.IntervalText(d.IntervalSeconds), d.Timezone, d.TaskCount, d.NextRunAt, last.GetValueOrDefault(d.Name), d.UpdatedAt)).ToList();
            return Cursor.ToPage(items, limit, d => d.Name);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapGet("/", async Task<Ok<Page<DagSummary>>> (ISender sender, CancellationToken ct, int? limit, string? cursor, string? tag, bool? paused, string? q) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor, tag, paused, q), ct)))
        .WithName("ListDags")
        .WithSummary("List DAGs by name, filtered by tag, paused state or a name fragment (q)")
        .RequireAuthorization(Policies.Viewer);
}
