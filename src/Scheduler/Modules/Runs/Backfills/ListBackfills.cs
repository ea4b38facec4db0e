using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs.Backfills;

/// <summary>A DAG's backfills, newest first, a page at a time (a DAG deleted since still lists its backfills).</summary>
internal static class ListBackfills
{
    public sealed record Query(string DagName, int? Limit, string? Cursor) : IQuery<Page<BackfillInfo>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidIdCursor();
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Page<BackfillInfo>>
    {
        public async ValueTask<Page<BackfillInfo>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecodeId(query.Cursor, out var before);
            var rows = await BackfillReads.ReadAsync(dataSource, null, query.DagName, before, limit + 1, cancellationToken);
            return Cursor.ToPage(rows, limit, b => b.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/dags/{name}/backfills", async Task<Ok<Page<BackfillInfo>>> (string name, ISender sender, CancellationToken ct, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(name, limit, cursor), ct)))
        .WithName("ListDagBackfills").WithTags("Backfills").WithSummary("A DAG's backfills, newest first")
        .RequireDagRole(Roles.Viewer, hidden: () => TypedResults.Ok(new Page<BackfillInfo>([], null)));
}
