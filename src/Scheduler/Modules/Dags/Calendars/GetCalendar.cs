using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using static Scheduler.Modules.Dags.Calendars.CalendarResponses;

namespace Scheduler.Modules.Dags.Calendars;

internal static class GetCalendar
{
    public sealed record Query(string Name) : IQuery<Info?>;

    public sealed class Handler(DagsDbContext db) : IQueryHandler<Query, Info?>
    {
        public async ValueTask<Info?> Handle(Query query, CancellationToken cancellationToken) =>
            await db.Calendars.AsNoTracking().SingleOrDefaultAsync(c => c.Name == query.Name, cancellationToken) is { } row ? ToInfo(row) : null;
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder calendars) => calendars
        .MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No calendar named '{name}'."))
        .WithName("GetCalendar").WithSummary("One calendar")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireAuthorization(Policies.Viewer);
}
