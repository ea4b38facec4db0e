using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Definitions;

using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags;

/// <summary>Version history, newest first, and any one version's full definition.</summary>
internal static class ListDagVersions
{
    /// <param name="Source">The commit and file a git import made this version from; absent for REST versions.</param>
    public sealed record VersionInfo(int Version, string Hash, DateTimeOffset CreatedAt, string? CreatedBy, DagSource? Source);

    public sealed record VersionDetails(int Version, string Hash, DateTimeOffset CreatedAt, string? CreatedBy, DagSource? Source, DagDefinition Definition);

    public sealed record Query(string Name, int? Limit, string? Cursor) : IQuery<Page<VersionInfo>?>;

    public sealed record GetOne(string Name, int Version) : IQuery<VersionDetails?>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor(k => int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        }
    }

    public sealed class Handler(DagsDbContext db) : IQueryHandler<Query, Page<VersionInfo>?>, IQueryHandler<GetOne, VersionDetails?>
    {
        public async ValueTask<Page<VersionInfo>?> Handle(Query query, CancellationToken cancellationToken)
        {
            var dagId = await db.Dags.Where(d => d.Name == query.Name).Select(d => (long?)d.Id).SingleOrDefaultAsync(cancellationToken);
            if (dagId is null)
                return null;
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var before = after is null ? int.MaxValue : int.Parse(after, NumberStyles.None, CultureInfo.InvariantCulture);
            var items = await db.Versions.AsNoTracking()
                .Where(v => v.DagId == dagId && v.Version < before)
                .OrderByDescending(v => v.Version)
                .Take(limit + 1)
                .Select(v => new VersionInfo(v.Version, v.Hash, v.CreatedAt, v.CreatedBy, v.SourceCommit == null ? null : new DagSource(null, v.SourceCommit, v.SourcePath)))
                .ToListAsync(cancellationToken);
            return Cursor.ToPage(items, limit, v => v.Version.ToString(CultureInfo.InvariantCulture));
        }

        public async ValueTask<VersionDetails?> Handle(GetOne query, CancellationToken cancellationToken)
        {
            var version = await (from d in db.Dags
                                 join v in db.Versions on d.Id equals v.DagId
                                 where d.Name == query.Name && v.Version == query.Version
                                 select v).AsNoTracking().SingleOrDefaultAsync(cancellationToken);
            return version is null ? null
                : new VersionDetails(version.Version, version.Hash, version.CreatedAt, version.CreatedBy,
                    version.SourceCommit is null ? null : new DagSource(null, version.SourceCommit, version.SourcePath), CanonicalJson.Deserialize(version.Definition));
        }
    }

    public static void Map(RouteGroupBuilder dags)
    {
        dags.MapGet("/{name}/versions", async Task<Results<Ok<Page<VersionInfo>>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct, int? limit, string? cursor) =>
                await sender.Send(new Query(name, limit, cursor), ct) is { } page ? TypedResults.Ok(page) : Problems.NotFound($"No DAG named '{name}'."))
            .WithName("ListDagVersions")
            .WithSummary("Version history of a DAG, newest first")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireDagRole(Roles.Viewer);
        dags.MapGet("/{name}/versions/{version:int}", async Task<Results<Ok<VersionDetails>, ProblemHttpResult>> (string name, int version, ISender sender, CancellationToken ct) =>
                await sender.Send(new GetOne(name, version), ct) is { } v ? TypedResults.Ok(v) : Problems.NotFound($"DAG '{name}' has no version {version}."))
            .WithName("GetDagVersion")
            .WithSummary("One version of a DAG with its full definition")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireDagRole(Roles.Viewer, http => $"DAG '{http.GetRouteValue("name")}' has no version {http.GetRouteValue("version")}.");
    }
}
