using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using static Scheduler.Modules.Workers.Connections.ConnectionResponses;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>One connection; never its secret.</summary>
internal static class GetConnection
{
    public sealed record Query(string Name) : IQuery<Info?>;

    public sealed class Handler(ConnectionsDbContext db, ConnectionSecrets secrets) : IQueryHandler<Query, Info?>
    {
        public async ValueTask<Info?> Handle(Query query, CancellationToken cancellationToken) =>
            await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Name == query.Name, cancellationToken) is { } row ? ToInfo(row, secrets) : null;
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder connections) => connections
        .MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No connection named '{name}'."))
        .WithName("GetConnection").WithSummary("One connection (never its secret)")
        .RequireConnectionRole(Roles.Admin);
}
