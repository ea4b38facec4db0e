using System.Text.Json.Nodes;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags;

/// <summary>What the catalogue knows of assets: the columns its upserts keep with the current version (migration 0027).</summary>
internal static class AssetReferenceQueries
{
    public sealed class ConsumersHandler(DagsDbContext db) : IQueryHandler<GetAssetConsumers, IReadOnlyList<AssetConsumer>>
    {
        public async ValueTask<IReadOnlyList<AssetConsumer>> Handle(GetAssetConsumers query, CancellationToken cancellationToken) =>
            await db.Dags.AsNoTracking()
                .Where(d => d.ScheduleOnAssets.Length > 0 && !d.Paused)
                .OrderBy(d => d.Id)
                .Select(d => new AssetConsumer(d.Id, d.Name, d.Version, d.CreatedAt, d.ScheduleOnAssets))
                .ToListAsync(cancellationToken);
    }

    public sealed class ReferencesHandler(DagsDbContext db) : IQueryHandler<GetAssetReferences, IReadOnlyList<AssetReference>>
    {
        public async ValueTask<IReadOnlyList<AssetReference>> Handle(GetAssetReferences query, CancellationToken cancellationToken)
        {
            var dags = db.Dags.FromSql($"select * from dags.dags where cardinality(schedule_on_assets) > 0 or outlets <> '[]'::jsonb").AsNoTracking();
            if (query.DagName is not null)
                dags = dags.Where(d => d.Name == query.DagName);
            var rows = await dags.OrderBy(d => d.Name).Select(d => new { d.Name, d.Paused, d.ScheduleOnAssets, d.Outlets }).ToListAsync(cancellationToken);
            var references = new List<AssetReference>();
            foreach (var row in rows)
            {
                references.AddRange(row.ScheduleOnAssets.Select(uri => new AssetReference(uri, row.Name, row.Paused, null)));
                foreach (var outlet in JsonNode.Parse(row.Outlets)?.AsArray() ?? [])
                    if (outlet?["uri"]?.GetValue<string>() is { } uri && outlet["task"]?.GetValue<string>() is { } task)
                        references.Add(new AssetReference(uri, row.Name, row.Paused, task));
            }
            return references;
        }
    }
}
