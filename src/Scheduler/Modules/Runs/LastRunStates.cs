using Mediator;
using Npgsql;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>One index-ordered read for a whole page of DAGs (the history index on name, logical date).</summary>
internal sealed class LastRunStates(NpgsqlDataSource dataSource) : IQueryHandler<GetLastRunStates, IReadOnlyDictionary<string, string>>
{
    public async ValueTask<IReadOnlyDictionary<string, string>> Handle(GetLastRunStates query, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        if (query.DagNames.Count == 0)
            return states;
        await using var cmd = dataSource.CreateCommand("""
            select n, (select state from runs.dag_runs r where r.dag_name = n order by r.logical_date desc, r.id desc limit 1)
            from unnest(@names) as n
            """);
        cmd.Parameters.AddWithValue("names", query.DagNames.ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            if (!reader.IsDBNull(1))
                states[reader.GetString(0)] = reader.GetString(1);
        return states;
    }
}
