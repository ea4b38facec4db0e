using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using static Scheduler.Modules.Notifications.Monitors.MonitorResponses;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>Monitors by name with their state, a page at a time; filtered by state (paused counts as a state here).</summary>
internal static class ListMonitors
{
    /// <param name="Visible">The teams the caller sees (TeamAccess.VisibleTeams()), null: all.</param>
    public sealed record Query(int? Limit, string? Cursor, string? State, IReadOnlyList<string>? Visible = null) : IQuery<Page<Info>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
            RuleFor(q => q.State).Must(s => s is null || s is "new" or "up" or "running" or "late" or "failed" or "paused")
                .WithMessage("'state' must be one of new, up, running, late, failed, paused.");
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Page<Info>>
    {
        public async ValueTask<Page<Info>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var stateFilter = query.State switch
            {
                null => "",
                "paused" => "and paused",
                _ => "and not paused and state = @state",
            };
            var rows = await MonitorStore.QueryAsync(connection, null, $"where (@after::text is null or name > @after::text) and (@visible::text[] is null or team = any(@visible)) {stateFilter} order by name limit {limit + 1}", p =>
            {
                p.Add(new NpgsqlParameter("visible", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)query.Visible?.ToArray() ?? DBNull.Value });
                p.AddWithValue("after", (object?)after ?? DBNull.Value);
                p.AddWithValue("state", (object?)query.State ?? DBNull.Value);
            }, cancellationToken);
            return Cursor.ToPage(rows.Select(ToInfo).ToList(), limit, m => m.Name);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder monitors) => monitors
        .MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, HttpContext http, CancellationToken ct, int? limit, string? cursor, string? state) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor, state, Scheduler.Infrastructure.Auth.TeamAccess.Of(http.User).VisibleTeams()), ct)))
        .WithName("ListMonitors").WithSummary("Monitors with their state; filter by state (new, up, running, late, failed, paused)");
}
