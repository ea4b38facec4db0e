using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Runs.Backfills;

/// <summary>One backfill and its progress.</summary>
internal static class GetBackfill
{
    public sealed record Query(long Id) : IQuery<BackfillInfo?>;

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, BackfillInfo?>
    {
        public async ValueTask<BackfillInfo?> Handle(Query query, CancellationToken cancellationToken) =>
            (await BackfillReads.ReadAsync(dataSource, query.Id, null, null, 1, cancellationToken)).SingleOrDefault();
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/backfills/{id:long}", async Task<Results<Ok<BackfillInfo>, ProblemHttpResult>> (long id, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(id), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No backfill {id}."))
        .WithName("GetBackfill").WithTags("Backfills").WithSummary("One backfill with its progress (runs by state)")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireBackfillRole(Roles.Viewer);
}
