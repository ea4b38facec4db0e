using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.OpenApi;

namespace Scheduler.Modules.Runs;

/// <summary>Tasks that used up their retries, newest first; requeued ones only when asked for.</summary>
internal static class ListDeadLetters
{
    [SchemaName("Runs.DeadLetters.Item")]
    public sealed record Item(long Id, long RunId, string DagName, string TaskId, int Attempts, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? RequeuedAt);

    public sealed record Query(int? Limit, string? Cursor, bool IncludeRequeued) : IQuery<Page<Item>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
        }
    }

    public sealed class Handler(RunsDbContext db) : IQueryHandler<Query, Page<Item>>
    {
        public async ValueTask<Page<Item>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var key);
            var before = key ?? long.MaxValue;
            var items = db.DeadLetters.AsNoTracking().Where(d => d.Id < before);
            if (!query.IncludeRequeued)
                items = items.Where(d => d.RequeuedAt == null);
            var page = await items.OrderByDescending(d => d.Id).Take(limit + 1)
                .Select(d => new Item(d.Id, d.RunId, d.DagName, d.TaskId, d.Attempts, d.Error, d.CreatedAt, d.RequeuedAt))
                .ToListAsync(cancellationToken);
            return Cursor.ToPage(page, limit, d => d.Id.ToString(CultureInfo.InvariantCulture));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/dead-letters", async Task<Ok<Page<Item>>> (ISender sender, CancellationToken ct, int? limit, string? cursor, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "include_requeued")] bool? includeRequeued) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor, includeRequeued ?? false), ct)))
        .WithName("ListDeadLetters").WithTags("Runs")
        .WithSummary("Tasks that used up their retries, newest first")
        .RequireAuthorization(Policies.Viewer);
}
