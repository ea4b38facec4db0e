using Mediator;
using Npgsql;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs;

internal sealed class RunFactsQueries(NpgsqlDataSource dataSource) :
    IQueryHandler<GetRunFacts, RunFacts?>,
    IQueryHandler<GetLatestRuns, IReadOnlyList<LatestRun>>
{
    public async ValueTask<RunFacts?> Handle(GetRunFacts query, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand("""
            select r.dag_id, r.dag_name, r.dag_version, r.state, r.run_type, r.logical_date, r.queued_at, r.started_at, r.finished_at,
                   array(select t.task_id from runs.task_instances t where t.run_id = r.id and t.state in ('failed', 'upstream_failed') order by t.task_id limit 50)
            from runs.dag_runs r where r.id = @id
            """);
        cmd.Parameters.AddWithValue("id", query.RunId);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        return new RunFacts(query.RunId, reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4),
            reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6),
            reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
            reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
            reader.GetFieldValue<string[]>(9));
    }

    public async ValueTask<IReadOnlyList<LatestRun>> Handle(GetLatestRuns query, CancellationToken cancellationToken)
    {
        // DISTINCT ON walks the history index (dag_name, logical_date desc, id desc).
        await using var cmd = dataSource.CreateCommand("""
            select distinct on (dag_name) dag_name, id, state, logical_date, finished_at
            from runs.dag_runs order by dag_name, logical_date desc, id desc limit @limit
            """);
        cmd.Parameters.AddWithValue("limit", query.Limit);
        var list = new List<LatestRun>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(new LatestRun(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
        return list;
    }
}
