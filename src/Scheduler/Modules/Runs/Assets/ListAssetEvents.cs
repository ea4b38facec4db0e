using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;

namespace Scheduler.Modules.Runs.Assets;

/// <summary><c>GET /assets/events?uri=</c>: asset events, newest first, a page at a time; all assets' without <c>uri</c>.</summary>
internal static class ListAssetEvents
{
    public sealed record Query(string? Uri, int? Limit, string? Cursor) : IQuery<Page<AssetEventInfo>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Uri).Custom((uri, ctx) =>
            {
                if (uri is not null && AssetUris.Problem(uri) is { } problem)
                    ctx.AddFailure("uri", problem);
            });
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Page<AssetEventInfo>>
    {
        public async ValueTask<Page<AssetEventInfo>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var before);
            await using var cmd = dataSource.CreateCommand($"""
                select {AssetEventInfo.Columns} from runs.asset_events
                where (@uri::text is null or uri = @uri) and (@before::bigint is null or id < @before)
                order by id desc limit @limit
                """);
            cmd.Parameters.Add(new NpgsqlParameter("uri", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)query.Uri ?? DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter("before", NpgsqlTypes.NpgsqlDbType.Bigint) { Value = (object?)before ?? DBNull.Value });
            cmd.Parameters.AddWithValue("limit", limit + 1);
            var rows = new List<AssetEventInfo>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(AssetEventInfo.Read(reader));
            return Cursor.ToPage(rows, limit, e => e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/assets/events", async Task<Ok<Page<AssetEventInfo>>> (ISender sender, CancellationToken ct, string? uri, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(uri, limit, cursor), ct)))
        .WithName("ListAssetEvents").WithTags("Assets").WithSummary("Asset events, newest first (one asset's with 'uri')")
        .RequireAuthorization(Policies.Viewer);
}
