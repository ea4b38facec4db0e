using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Scheduler.Infrastructure.Json;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Dags.Definitions;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.Modules.Dags;

/// <summary>Serves plans and due schedules to the engine.</summary>
internal sealed class DagPlans(DagsDbContext db, NpgsqlDataSource dataSource, Calendars.CalendarCache calendarCache, ILogger<DagPlans> logger) :
    IQueryHandler<GetDagPlan, DagPlan?>,
    IQueryHandler<GetDagPlanVersion, DagPlan?>,
    IQueryHandler<GetDagPlanVersions, IReadOnlyDictionary<(long DagId, int Version), DagPlan>>,
    IQueryHandler<GetDueSchedules, IReadOnlyList<DueSchedule>>,
    ICommandHandler<AdvanceSchedules, int>,
    IQueryHandler<GetNextRunAt, DateTimeOffset?>
{
    /// <summary>Plans are immutable per (dag, version): cache them for the life of the process.</summary>
    private static readonly ConcurrentDictionary<(long, int), DagPlan> Cache = new();
    private const int MaxCached = 50_000;

    public async ValueTask<DagPlan?> Handle(GetDagPlan query, CancellationToken cancellationToken)
    {
        var row = await db.Dags.AsNoTracking().Where(d => d.Name == query.Name)
            .Select(d => new { d.Id, d.Version }).SingleOrDefaultAsync(cancellationToken);
        return row is null ? null : await Handle(new GetDagPlanVersion(row.Id, row.Version), cancellationToken);
    }

    public async ValueTask<DagPlan?> Handle(GetDagPlanVersion query, CancellationToken cancellationToken)
    {
        if (Cache.TryGetValue((query.DagId, query.Version), out var cached))
            return cached;
        var row = await (from d in db.Dags
                         join v in db.Versions on d.Id equals v.DagId
                         where d.Id == query.DagId && v.Version == query.Version
                         select new { d.Name, v.Definition }).AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        if (row is null)
            return null;
        return Remember((query.DagId, query.Version), CanonicalJson.Deserialize(row.Definition));
    }

    public async ValueTask<IReadOnlyDictionary<(long DagId, int Version), DagPlan>> Handle(GetDagPlanVersions query, CancellationToken cancellationToken)
    {
        var plans = new Dictionary<(long DagId, int Version), DagPlan>();
        var missing = new List<(long DagId, int Version)>();
        foreach (var key in query.Keys.Distinct())
        {
            if (Cache.TryGetValue(key, out var cached))
                plans[key] = cached;
            else
                missing.Add(key);
        }
        if (missing.Count == 0)
            return plans;
        await foreach (var (key, definition) in VersionDefinitionsAsync(missing, cancellationToken))
            plans[key] = Remember(key, CanonicalJson.Deserialize(definition));
        return plans;
    }

    /// <summary>Builds a version's plan and caches it.</summary>
    private static DagPlan Remember((long DagId, int Version) key, DagDefinition definition)
    {
        var plan = ToPlan(key.DagId, key.Version, definition);
        if (Cache.Count >= MaxCached)
            Cache.Clear();
        Cache[key] = plan;
        return plan;
    }

    /// <summary>The stored definitions of these versions, read in one statement; gone ones are absent.</summary>
    private async IAsyncEnumerable<((long DagId, int Version) Key, string Definition)> VersionDefinitionsAsync(
        IReadOnlyCollection<(long DagId, int Version)> keys, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand("""
            select v.dag_id, v.version, v.definition::text
            from unnest(@ids, @versions) as k(dag_id, version)
            join dags.dag_versions v on v.dag_id = k.dag_id and v.version = k.version
            """);
        cmd.Parameters.AddWithValue("ids", keys.Select(k => k.DagId).ToArray());
        cmd.Parameters.AddWithValue("versions", keys.Select(k => k.Version).ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            yield return ((reader.GetInt64(0), reader.GetInt32(1)), reader.GetString(2));
    }

    internal static DagPlan ToPlan(long dagId, int version, DagDefinition d)
    {
        var defaults = d.Defaults ?? new TaskDefaults();
        var tasks = d.Tasks!.Select(t =>
        {
            var spec = AuthoringRules.SpecOf(t);
            return new TaskPlan(
                t.Id!,
                t.EffectiveType,
                t.DependsOn ?? [],
                t.TriggerRule ?? "all_success",
                (t.Retries ?? defaults.Retries ?? 0) + 1,
                t.RetryDelay ?? defaults.RetryDelay ?? TimeSpan.FromSeconds(30),
                (t.RetryBackoff ?? defaults.RetryBackoff ?? "fixed") == "exponential",
                t.MaxRetryDelay ?? defaults.MaxRetryDelay,
                t.Timeout ?? defaults.Timeout,
                t.Pool ?? defaults.Pool ?? "default",
                t.Priority ?? defaults.Priority ?? 0,
                spec,
                t.MapOver,
                t.MaxMapLength ?? d.MaxMapLength ?? TaskPlan.DefaultMaxMapLength);
        }).ToList();
        return new DagPlan(dagId, d.Name!, version, d.Params?.DeepClone().AsObject() ?? [], d.MaxActiveRuns ?? 16, d.MaxActiveTasks, tasks, d.Sla,
            d.Notifications?.Select(n => new NotificationRulePlan(n.On ?? [], n.Channel!)).ToList() ?? [], AuthoringRules.ToPlan(d), d.Timeout, d.Team);
    }

    /// <summary>
    /// Parsed schedules per (dag, version), immutable like plans: a scan of 10,000 DAGs due
    /// every minute must not deserialize 10,000 definitions and parse 10,000 crons each time.
    /// </summary>
    private static readonly ConcurrentDictionary<(long, int), (DagDefinition Definition, FireRules Rules)> Schedules = new();

    public async ValueTask<IReadOnlyList<DueSchedule>> Handle(GetDueSchedules query, CancellationToken cancellationToken)
    {
        // One indexed range read for every due DAG (the partial index on next_run_at).
        var dags = db.Dags.AsNoTracking().Where(d => d.NextRunAt != null && d.NextRunAt <= query.Now && !d.Paused);
        if (query.After is { } after)
            dags = dags.Where(d => d.NextRunAt > after.DueAt || (d.NextRunAt == after.DueAt && d.Id > after.DagId));
        var due = await dags
            .OrderBy(d => d.NextRunAt).ThenBy(d => d.Id)
            .Take(query.Limit)
            .Select(d => new { d.Id, d.Name, d.Version, d.NextRunAt })
            .ToListAsync(cancellationToken);
        var missing = due.Where(d => !Schedules.ContainsKey((d.Id, d.Version))).ToList();
        if (missing.Count > 0)
            await LoadSchedulesAsync(missing.Select(d => (d.Id, d.Version, d.Name)).ToList(), cancellationToken);
        // One cheap statement per batch; the calendars themselves are read only after a change.
        var calendars = await calendarCache.GetAsync(cancellationToken);
        var result = new List<DueSchedule>(due.Count);
        foreach (var dag in due)
        {
            // Absent when the DAG changed between the two reads, or its schedule is broken: the
            // next scan sees the new version; a broken one was logged.
            if (!Schedules.TryGetValue((dag.Id, dag.Version), out var schedule))
                continue;
            try
            {
                result.Add(DueRuns(dag.Id, dag.Name, dag.Version, dag.NextRunAt!.Value, schedule.Definition,
                    ScheduleRules.WithCalendars(schedule.Rules, schedule.Definition, calendars), query.Now));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One broken row must not stop every other DAG from being scheduled.
                logger.LogError(e, "Cannot compute the schedule of DAG {Dag}", dag.Name);
            }
        }
        return result;
    }

    private async Task LoadSchedulesAsync(IReadOnlyList<(long Id, int Version, string Name)> dags, CancellationToken cancellationToken)
    {
        var names = dags.ToDictionary(d => (d.Id, d.Version), d => d.Name);
        await foreach (var (key, text) in VersionDefinitionsAsync(names.Keys, cancellationToken))
        {
            try
            {
                var definition = CanonicalJson.Deserialize(text);
                // The scan asks for this version's plan next: build it from the same read.
                if (!Cache.ContainsKey(key))
                    Remember(key, definition);
                var zone = PreparedDefinition.ZoneOf(definition);
                if (ScheduleRules.Of(definition, PreparedDefinition.ScheduleOf(definition, zone), zone) is not { } rules)
                    continue;
                if (Schedules.Count >= MaxCached)
                    Schedules.Clear();
                Schedules[key] = (definition, rules);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Cannot compute the schedule of DAG {Dag}", names.GetValueOrDefault(key));
            }
        }
    }

    /// <summary>
    /// Without catch-up only the latest missed fire time runs (a scheduler that was down for
    /// a day starts one run, not 1,440); with catch-up every missed one, newest
    /// <c>max_catchup_runs</c> at most. Which fire times count, and where the schedule goes
    /// next, is <see cref="FireTimes"/>'s decision (calendars and maintenance windows applied).
    /// </summary>
    internal static DueSchedule DueRuns(long id, string name, int version, DateTimeOffset dueAt, DagDefinition definition, FireRules rules, DateTimeOffset now)
    {
        var limit = definition.Catchup == true ? definition.MaxCatchupRuns ?? 100 : 1;
        return new DueSchedule(id, name, version, dueAt, FireTimes.DueBetween(rules, dueAt, now, limit), FireTimes.NextDue(rules, now));
    }

    public async ValueTask<DateTimeOffset?> Handle(GetNextRunAt query, CancellationToken cancellationToken) =>
        // The first entry of the same partial index the due scan reads.
        await db.Dags.Where(d => d.NextRunAt != null && !d.Paused).MinAsync(d => d.NextRunAt, cancellationToken);

    public async ValueTask<int> Handle(AdvanceSchedules command, CancellationToken cancellationToken)
    {
        if (command.Schedules.Count == 0)
            return 0;
        // Rows are locked in id order first, so concurrent scans never deadlock on each other.
        await using var cmd = dataSource.CreateCommand("""
            with v as (select * from unnest(@ids, @due, @next) as v(id, due_at, next_run_at)),
            locked as (select d.id from dags.dags d where d.id in (select id from v) order by d.id for update)
            update dags.dags d set next_run_at = v.next_run_at
            from v where d.id = v.id and d.id in (select id from locked) and d.next_run_at = v.due_at
            """);
        cmd.Parameters.Add(new NpgsqlParameter<long[]>("ids", command.Schedules.Select(s => s.DagId).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]>("due", command.Schedules.Select(s => s.DueAt).ToArray()));
        cmd.Parameters.Add(new NpgsqlParameter("next", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = command.Schedules.Select(s => (object?)s.NextRunAt ?? DBNull.Value).ToArray() });
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
