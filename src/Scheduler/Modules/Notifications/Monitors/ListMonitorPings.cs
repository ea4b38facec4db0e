using Scheduler.Infrastructure.Auth;
using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.OpenApi;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>A monitor's pings, newest first; null when there is no such monitor.</summary>
internal static class ListMonitorPings
{
    [SchemaName("Notifications.Monitors.ManageMonitors.PingInfo")]
    public sealed record Ping(long Id, string Kind, DateTimeOffset ReceivedAt, long? DurationMs, string? Message, bool Late);

    public sealed record Query(string Name, int? Limit, string? Cursor) : IQuery<Page<Ping>?>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Page<Ping>?>
    {
        public async ValueTask<Page<Ping>?> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var after);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            if (await MonitorStore.FindAsync(connection, null, query.Name, false, cancellationToken) is not { } monitor)
                return null;
            await using var cmd = new NpgsqlCommand($"""
                select id, kind, received_at, duration_ms, message, late from notifications.pings
                where monitor_id = @m and (@after::bigint is null or id < @after::bigint) order by id desc limit {limit + 1}
                """, connection);
            cmd.Parameters.AddWithValue("m", monitor.Id);
            cmd.Parameters.AddWithValue("after", after is { } a ? a : DBNull.Value);
            var pings = new List<Ping>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                pings.Add(new Ping(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5)));
            return Cursor.ToPage(pings, limit, p => p.Id.ToString(CultureInfo.InvariantCulture));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder monitors) => monitors
        .MapGet("/{name}/pings", async Task<Results<Ok<Page<Ping>>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct, int? limit, string? cursor) =>
            await sender.Send(new Query(name, limit, cursor), ct) is { } page ? TypedResults.Ok(page) : Problems.NotFound($"No monitor named '{name}'."))
        .WithName("ListMonitorPings").WithSummary("A monitor's pings, newest first")
        .RequireMonitorRole(Roles.Viewer);
}
