using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>Run history of a DAG, newest logical date first, keyset-paged.</summary>
internal static class ListDagRuns
{
    public sealed record Query(string DagName, int? Limit, string? Cursor, string? State) : IQuery<Page<RunSummary>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor(k => TryParse(k, out _, out _));
            RuleFor(q => q.State).Must(s => s is null || s is "queued" or "running" or "success" or "failed" or "cancelled")
                .WithMessage("'state' must be one of queued, running, success, failed, cancelled.");
        }
    }

    internal static bool TryParse(string key, out DateTimeOffset date, out long id)
    {
        var parts = key.Split('|');
        id = 0;
        date = default;
        return parts.Length == 2 && DateTimeOffset.TryParse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date)
            && long.TryParse(parts[1], CultureInfo.InvariantCulture, out id);
    }

    public sealed class Handler(RunsDbContext db) : IQueryHandler<Query, Page<RunSummary>>
    {
        public async ValueTask<Page<RunSummary>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            var runs = db.Runs.AsNoTracking().Where(r => r.DagName == query.DagName);
            if (query.State is not null)
                runs = runs.Where(r => r.State == query.State);
            if (Cursor.TryDecode(query.Cursor, out var key) && key is not null && TryParse(key, out var date, out var id))
                runs = runs.Where(r => r.LogicalDate < date || (r.LogicalDate == date && r.Id < id));
            var items = await runs.OrderByDescending(r => r.LogicalDate).ThenByDescending(r => r.Id).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(items.Select(r => r.ToSummary()).ToList(), limit,
                r => $"{r.LogicalDate.UtcDateTime:O}|{r.RunId.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    public static void Map(RouteGroupBuilder api)
    {
        foreach (var path in new[] { "/dags/{name}/runs", "/dags/{name}/status" })
            api.MapGet(path, async Task<Ok<Page<RunSummary>>> (string name, ISender sender, CancellationToken ct, int? limit, string? cursor, string? state) =>
                    TypedResults.Ok(await sender.Send(new Query(name, limit, cursor, state), ct)))
                .WithName(path.EndsWith("status") ? "GetDagStatus" : "ListDagRuns")
                .WithTags("Runs")
                .WithSummary("Run history of a DAG, newest first (filter by state)")
                .RequireDagRole(Roles.Viewer, hidden: () => TypedResults.Ok(new Page<RunSummary>([], null)));
    }
}
