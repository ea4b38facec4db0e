using Mediator;
using Npgsql;

namespace Scheduler.Modules.Runs;

/// <summary>
/// Airflow's grid: the latest runs of a DAG (columns) by a page of its tasks (rows), each
/// cell a task instance state. Two statements whatever the size: the runs from the history
/// index, then every cell of the page in one read of the (run_id, task_id) unique index; a
/// grid of 25 runs x 5,000 tasks is one query of 125,000 small rows, not one per cell or row.
/// </summary>
internal static class RunGrid
{
    public sealed record Run(long RunId, DateTimeOffset LogicalDate, string State, string RunType);

    public sealed record Result(IReadOnlyList<Run> Runs, IReadOnlyDictionary<(long RunId, string TaskId), string> States);

    /// <summary>TaskIds null: every task of the runs.</summary>
    public sealed record Query(string DagName, int Runs, IReadOnlyCollection<string>? TaskIds) : IQuery<Result>;

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Result>
    {
        public async ValueTask<Result> Handle(Query query, CancellationToken cancellationToken)
        {
            var runs = new List<Run>();
            await using (var cmd = dataSource.CreateCommand("""
                select id, logical_date, state, run_type from runs.dag_runs
                where dag_name = @dag order by logical_date desc, id desc limit @n
                """))
            {
                cmd.Parameters.AddWithValue("dag", query.DagName);
                cmd.Parameters.AddWithValue("n", query.Runs);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    runs.Add(new Run(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3)));
            }
            runs.Reverse(); // oldest left, newest right, as in Airflow
            var states = new Dictionary<(long, string), string>();
            if (runs.Count > 0)
            {
                await using var cmd = dataSource.CreateCommand(query.TaskIds is null
                    ? "select run_id, task_id, state from runs.task_instances where run_id = any(@runs) and map_index = -1"
                    : "select run_id, task_id, state from runs.task_instances where run_id = any(@runs) and task_id = any(@tasks) and map_index = -1");
                cmd.Parameters.AddWithValue("runs", runs.Select(r => r.RunId).ToArray());
                if (query.TaskIds is not null)
                    cmd.Parameters.AddWithValue("tasks", query.TaskIds.ToArray());
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    states[(reader.GetInt64(0), reader.GetString(1))] = reader.GetString(2);
            }
            return new Result(runs, states);
        }
    }
}
