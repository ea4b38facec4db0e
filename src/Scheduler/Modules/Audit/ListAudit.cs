using System.Globalization;
using System.Text.Json.Nodes;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Audit;

/// <summary>
/// The audit trail, newest first. Filters: <c>actor</c> (the actor's name), <c>action</c>
/// (exact, or a family as <c>connection.*</c>), <c>target</c> (that target and what lies under
/// it: <c>run/42</c> includes <c>run/42/task/a</c>), <c>since</c> and <c>until</c> (at, inclusive, exclusive).
/// </summary>
internal static class ListAudit
{
    public sealed record Actor(string Kind, long? Id, string Name);

    public sealed record Item(long Id, DateTimeOffset At, Actor Actor, string Action, string Target, string? Ip, JsonObject Details);

    public sealed record Query(string? Actor, string? Action, string? Target, DateTimeOffset? Since, DateTimeOffset? Until, int? Limit, string? Cursor) : IQuery<Page<Item>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
            RuleFor(q => q.Actor).MaximumLength(200);
            RuleFor(q => q.Action).MaximumLength(200);
            RuleFor(q => q.Target).MaximumLength(1000);
            RuleFor(q => q.Until).GreaterThan(q => q.Since).WithMessage("'until' must be after 'since'.").When(q => q.Since is not null && q.Until is not null);
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Page<Item>>
    {
        public async ValueTask<Page<Item>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var before);
            var isFamily = query.Action is { Length: > 2 } a && a.EndsWith(".*", StringComparison.Ordinal);
            string? action = isFamily ? null : query.Action, family = isFamily ? query.Action![..^1] : null;
            await using var cmd = dataSource.CreateCommand($"""
                select id, at, actor_kind, actor_id, actor_name, action, target, ip, details::text from audit.entries
                where (@before::bigint is null or id < @before::bigint)
                  and (@actor::text is null or actor_name = @actor::text)
                  and (@action::text is null or action = @action::text)
                  and (@family::text is null or starts_with(action, @family::text))
                  and (@target::text is null or target = @target::text or starts_with(target, @target::text || '/'))
                  and (@since::timestamptz is null or at >= @since::timestamptz)
                  and (@until::timestamptz is null or at < @until::timestamptz)
                order by id desc limit {limit + 1}
                """);
            cmd.Parameters.AddWithValue("before", before is { } b ? b : DBNull.Value);
            cmd.Parameters.AddWithValue("actor", (object?)query.Actor ?? DBNull.Value);
            cmd.Parameters.AddWithValue("action", (object?)action ?? DBNull.Value);
            cmd.Parameters.AddWithValue("family", (object?)family ?? DBNull.Value);
            cmd.Parameters.AddWithValue("target", (object?)query.Target ?? DBNull.Value);
            cmd.Parameters.AddWithValue("since", query.Since is { } s ? s.ToUniversalTime() : DBNull.Value);
            cmd.Parameters.AddWithValue("until", query.Until is { } u ? u.ToUniversalTime() : DBNull.Value);
            var items = new List<Item>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                items.Add(new Item(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1),
                    new Actor(reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.GetString(4)),
                    reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    JsonNode.Parse(reader.GetString(8))!.AsObject()));
            return Cursor.ToPage(items, limit, i => i.Id.ToString(CultureInfo.InvariantCulture));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder audit) => audit
        .MapGet("/", async Task<Ok<Page<Item>>> (ISender sender, CancellationToken ct, string? actor, string? action, string? target, DateTimeOffset? since, DateTimeOffset? until, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(actor, action, target, since, until, limit, cursor), ct)))
        .WithName("ListAudit")
        .WithSummary("The audit trail, newest first (filters: actor, action, target, since, until)")
        .RequireAuthorization(Policies.Admin);
}
