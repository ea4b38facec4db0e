using Scheduler.Infrastructure.Auth;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Http;
using static Scheduler.Modules.Notifications.Monitors.MonitorResponses;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>One monitor's state.</summary>
internal static class GetMonitor
{
    public sealed record Query(string Name) : IQuery<Info?>;

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Info?>
    {
        public async ValueTask<Info?> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await MonitorStore.FindAsync(connection, null, query.Name, false, cancellationToken) is { } row ? ToInfo(row) : null;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder monitors) => monitors
        .MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No monitor named '{name}'."))
        .WithName("GetMonitor").WithSummary("One monitor's state")
        .RequireMonitorRole(Roles.Viewer);
}
