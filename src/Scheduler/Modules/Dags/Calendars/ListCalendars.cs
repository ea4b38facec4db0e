using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using static Scheduler.Modules.Dags.Calendars.CalendarResponses;

namespace Scheduler.Modules.Dags.Calendars;

/// <summary>Calendars by name, a page at a time.</summary>
internal static class ListCalendars
{
    public sealed record Query(int? Limit, string? Cursor) : IQuery<Page<Info>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
        }
    }

    public sealed class Handler(DagsDbContext db) : IQueryHandler<Query, Page<Info>>
    {
        public async ValueTask<Page<Info>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var rows = db.Calendars.AsNoTracking();
            if (after is not null)
                rows = rows.Where(c => string.Compare(c.Name, after) > 0);
            var page = await rows.OrderBy(c => c.Name).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(page.Select(ToInfo).ToList(), limit, c => c.Name);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder calendars) => calendars
        .MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, CancellationToken ct, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor), ct)))
        .WithName("ListCalendars").WithSummary("List calendars")
        .RequireAuthorization(Policies.Viewer);
}
