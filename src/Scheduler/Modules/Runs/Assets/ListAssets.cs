using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs.Assets;

/// <summary>
/// <c>GET /assets</c>: every asset a DAG names (an outlet or <c>schedule_on_assets</c>) or that
/// has events, by URI, with its producers, consumers and newest event. Also the admin page's source.
/// </summary>
internal static class ListAssets
{
    public sealed record Query(int? Limit, string? Cursor) : IQuery<Page<AssetInfo>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
        }
    }

    public sealed class Handler(ISender sender, NpgsqlDataSource dataSource) : IQueryHandler<Query, Page<AssetInfo>>
    {
        public async ValueTask<Page<AssetInfo>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var references = await sender.Send(new GetAssetReferences(), cancellationToken);
            var counted = new Dictionary<string, (long Count, long LastId)>(StringComparer.Ordinal);
            await using (var cmd = dataSource.CreateCommand("select uri, event_count, last_event_id from runs.assets where @after::text is null or uri > @after"))
            {
                cmd.Parameters.Add(new NpgsqlParameter("after", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)after ?? DBNull.Value });
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    counted[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            }
            var uris = references.Select(r => r.Uri).Concat(counted.Keys)
                .Where(u => after is null || string.CompareOrdinal(u, after) > 0)
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(limit + 1).ToList();
            var last = await LastEventsAsync(uris.Select(u => counted.TryGetValue(u, out var c) ? c.LastId : 0).Where(id => id > 0).ToArray(), cancellationToken);
            var byUri = references.ToLookup(r => r.Uri, StringComparer.Ordinal);
            var items = uris.Select(u => new AssetInfo(u,
                byUri[u].Where(r => r.IsProducer).Select(r => new AssetProducer(r.DagName, r.TaskId!)).ToList(),
                byUri[u].Where(r => !r.IsProducer).Select(r => new AssetConsumerInfo(r.DagName, r.Paused)).ToList(),
                counted.TryGetValue(u, out var c) ? c.Count : 0,
                counted.TryGetValue(u, out var l) ? last.GetValueOrDefault(l.LastId) : null)).ToList();
            return Cursor.ToPage(items, limit, a => a.Uri);
        }

        private async Task<Dictionary<long, AssetEventInfo>> LastEventsAsync(long[] ids, CancellationToken ct)
        {
            var events = new Dictionary<long, AssetEventInfo>();
            if (ids.Length == 0)
                return events;
            await using var cmd = dataSource.CreateCommand($"select {AssetEventInfo.Columns} from runs.asset_events where id = any(@ids)");
            cmd.Parameters.AddWithValue("ids", ids);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var e = AssetEventInfo.Read(reader);
                events[e.Id] = e;
            }
            return events;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/assets", async Task<Ok<Page<AssetInfo>>> (ISender sender, CancellationToken ct, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor), ct)))
        .WithName("ListAssets").WithTags("Assets").WithSummary("Assets with their producers, consumers and newest event, by URI")
        .RequireAuthorization(Policies.Viewer);
}
