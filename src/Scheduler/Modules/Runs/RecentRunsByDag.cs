using Mediator;
using Npgsql;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The last N runs of each DAG on a page of the DAG list (the status strip): one statement,
/// each DAG an index range read of the history index, instead of a query per row.
/// </summary>
internal static class RecentRunsByDag
{
    public sealed record Run(long RunId, DateTimeOffset LogicalDate, string State);

    public sealed record Query(IReadOnlyCollection<string> DagNames, int PerDag = 10) : IQuery<IReadOnlyDictionary<string, IReadOnlyList<Run>>>;

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, IReadOnlyDictionary<string, IReadOnlyList<Run>>>
    {
        public async ValueTask<IReadOnlyDictionary<string, IReadOnlyList<Run>>> Handle(Query query, CancellationToken cancellationToken)
        {
            var runs = new Dictionary<string, List<Run>>(StringComparer.Ordinal);
            if (query.DagNames.Count > 0)
            {
                await using var cmd = dataSource.CreateCommand("""
                    select n, r.id, r.logical_date, r.state
                    from unnest(@names) as n
                    cross join lateral (select id, logical_date, state from runs.dag_runs
                                        where dag_name = n order by logical_date desc, id desc limit @per) r
                    order by n, r.logical_date, r.id
                    """);
                cmd.Parameters.AddWithValue("names", query.DagNames.ToArray());
                cmd.Parameters.AddWithValue("per", query.PerDag);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var name = reader.GetString(0);
                    if (!runs.TryGetValue(name, out var list))
                        runs[name] = list = [];
                    list.Add(new Run(reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3)));
                }
            }
            return runs.ToDictionary(p => p.Key, p => (IReadOnlyList<Run>)p.Value, StringComparer.Ordinal);
        }
    }
}
