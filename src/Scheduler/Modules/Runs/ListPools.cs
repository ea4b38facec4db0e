using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using static Scheduler.Modules.Runs.PoolResponses;

namespace Scheduler.Modules.Runs;

/// <summary>Every pool with its slots and its running and queued tasks.</summary>
internal static class ListPools
{
    public sealed record Query : IQuery<IReadOnlyList<Item>>;

    public sealed class Handler(RunsDbContext db) : IQueryHandler<Query, IReadOnlyList<Item>>
    {
        public async ValueTask<IReadOnlyList<Item>> Handle(Query query, CancellationToken cancellationToken) =>
            await ListAsync(db, cancellationToken);
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/pools", async Task<Ok<IReadOnlyList<Item>>> (ISender sender, CancellationToken ct) => TypedResults.Ok(await sender.Send(new Query(), ct)))
        .WithName("ListPools").WithTags("Pools").WithSummary("Pools with their slots, running and queued tasks")
        .RequireAuthorization(Policies.Viewer);
}
