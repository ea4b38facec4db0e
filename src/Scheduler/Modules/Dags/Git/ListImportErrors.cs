using System.Text.Json;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Dags.Git;

/// <summary><c>GET /dags/import-errors</c>: the files of the last imported commit that are not valid DAGs.</summary>
internal static class ListImportErrors
{
    /// <param name="Errors">Messages keyed by field path, as a 400 of the REST API would give them; "$" for the file as a whole.</param>
    public sealed record Info(string Repository, string Path, string Commit, string Message, IReadOnlyDictionary<string, string[]> Errors, DateTimeOffset RecordedAt);

    public sealed record Query : IQuery<Page<Info>>;

    public sealed class Handler(DagsDbContext db) : IQueryHandler<Query, Page<Info>>
    {
        public async ValueTask<Page<Info>> Handle(Query query, CancellationToken cancellationToken)
        {
            var rows = await db.ImportErrors.AsNoTracking().OrderBy(e => e.Repository).ThenBy(e => e.Path).ToListAsync(cancellationToken);
            return new Page<Info>(rows.Select(e => new Info(e.Repository, e.Path, e.Commit, e.Message,
                JsonSerializer.Deserialize<Dictionary<string, string[]>>(e.Errors) ?? [], e.RecordedAt)).ToList(), null);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapGet("/import-errors", async (ISender sender, CancellationToken ct) => TypedResults.Ok(await sender.Send(new Query(), ct)))
        .WithName("ListDagImportErrors")
        .WithSummary("DAG files from git that failed to parse or validate")
        .WithDescription("One entry per file of the last imported commit; the DAG such a file defined keeps running its last good version. Empty without git.")
        .RequireAuthorization(Policies.Viewer);
}
