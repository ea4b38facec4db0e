using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.Modules.Dags.Calendars;

/// <summary>
/// Every calendar, parsed, for the scheduler's hot path: a scan of 10,000 DAGs asks once per
/// batch and pays one statement (count and highest revision, which a sequence makes unique
/// across replicas), reloading the table only when a calendar was written or deleted since.
/// </summary>
internal sealed class CalendarCache(NpgsqlDataSource dataSource, IServiceScopeFactory scopes, ILogger<CalendarCache> logger)
{
    private sealed record Snapshot(long Count, long Revision, IReadOnlyDictionary<string, ExclusionCalendar> Calendars);

    private volatile Snapshot _current = new(-1, -1, new Dictionary<string, ExclusionCalendar>());

    public async ValueTask<IReadOnlyDictionary<string, ExclusionCalendar>> GetAsync(CancellationToken ct)
    {
        long count, revision;
        await using (var cmd = dataSource.CreateCommand("select count(*), coalesce(max(revision), 0) from dags.calendars"))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            (count, revision) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        var current = _current;
        if (current.Count == count && current.Revision == revision)
            return current.Calendars;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DagsDbContext>();
        var rows = await db.Calendars.AsNoTracking().ToListAsync(ct);
        var calendars = new Dictionary<string, ExclusionCalendar>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            try
            {
                calendars[row.Name] = row.ToExclusion();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Calendar {Calendar} cannot be read; it excludes nothing", row.Name);
            }
        }
        // What was read may be newer than the stamp (a write in between): the next call reloads once more.
        _current = new Snapshot(count, revision, calendars);
        return calendars;
    }
}
