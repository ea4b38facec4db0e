using Microsoft.EntityFrameworkCore;
using Scheduler.Modules.Dags.Definitions;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.Modules.Dags.Calendars;

/// <summary>next_run_at of the DAGs that exclude a calendar, recomputed after it changed.</summary>
internal static class DagNextRuns
{
    /// <summary>
    /// Unpaused DAGs whose schedule is not due yet move to where the new calendar puts them
    /// (compare-and-set: a scan that advanced one meanwhile wins). A due or paused schedule is
    /// left alone: the scan, or the unpause, decides from there as usual.
    /// </summary>
    public static async Task RefreshAsync(DagsDbContext db, string calendar, IReadOnlyDictionary<string, ExclusionCalendar> calendars, DateTimeOffset now, CancellationToken ct)
    {
        var dags = await db.Dags.FromSql($"select * from dags.dags where jsonb_exists(definition -> 'exclude_calendars', {calendar}) and not paused")
            .AsNoTracking().ToListAsync(ct);
        foreach (var dag in dags)
        {
            if (dag.NextRunAt is { } due && due <= now)
                continue;
            var next = PreparedDefinition.From(CanonicalJson.Deserialize(dag.Definition)).NextRunAfter(now, calendars);
            if (next == dag.NextRunAt)
                continue;
            await db.Database.ExecuteSqlAsync(
                $"update dags.dags set next_run_at = {next} where id = {dag.Id} and next_run_at is not distinct from {dag.NextRunAt}", ct);
        }
    }
}
