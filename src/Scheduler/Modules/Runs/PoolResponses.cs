using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.OpenApi;

namespace Scheduler.Modules.Runs;

/// <summary>
/// Named pools cap concurrent tasks across all replicas (e.g. 4 slots for tasks that hit a
/// fragile database). A task naming a pool that does not exist runs uncapped.
/// </summary>
internal static class PoolResponses
{
    [SchemaName("Runs.Pools.Item")]
    public sealed record Item(string Name, int? Slots, string? Description, int Running, int Queued);

    /// <summary>Every pool with its running and queued tasks now, by name.</summary>
    public static async Task<IReadOnlyList<Item>> ListAsync(RunsDbContext db, CancellationToken cancellationToken)
    {
        var usage = await db.TaskInstances.AsNoTracking()
            .Where(t => t.State == "running" || t.State == "queued")
            .GroupBy(t => new { t.Pool, t.State })
            .Select(g => new { g.Key.Pool, g.Key.State, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var pools = await db.Pools.AsNoTracking().OrderBy(p => p.Name).ToListAsync(cancellationToken);
        return pools.Select(p => new Item(p.Name, p.Slots, p.Description,
            usage.Where(u => u.Pool == p.Name && u.State == "running").Sum(u => u.Count),
            usage.Where(u => u.Pool == p.Name && u.State == "queued").Sum(u => u.Count))).ToList();
    }
}
