using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Workers;

/// <summary>Worker nodes seen in the last ten minutes; alive means a heartbeat within three intervals.</summary>
internal static class ListWorkers
{
    public sealed record Item(string Id, string Host, int Pid, int Slots, int Running, DateTimeOffset StartedAt, DateTimeOffset LastHeartbeat, bool Alive, bool Stopping);

    public sealed record Query : IQuery<IReadOnlyList<Item>>;

    public sealed class Handler(NpgsqlDataSource dataSource, Microsoft.Extensions.Options.IOptions<Pool.WorkerOptions> options) : IQueryHandler<Query, IReadOnlyList<Item>>
    {
        public async ValueTask<IReadOnlyList<Item>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var cmd = dataSource.CreateCommand("""
                select id, host, pid, slots, running, started_at, heartbeat_at, heartbeat_at > now() - @alive, stopping
                from workers.nodes where heartbeat_at > now() - interval '10 minutes' order by id
                """);
            cmd.Parameters.AddWithValue("alive", options.Value.AliveWindow);
            var items = new List<Item>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                items.Add(new Item(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4),
                    reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetBoolean(7), reader.GetBoolean(8)));
            return items;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/workers", async Task<Ok<IReadOnlyList<Item>>> (ISender sender, CancellationToken ct) => TypedResults.Ok(await sender.Send(new Query(), ct)))
        .WithName("ListWorkers").WithTags("Workers")
        .WithSummary("Live worker nodes: id, host, slots, running tasks, last heartbeat")
        .RequireAuthorization(Policies.Viewer);
}
