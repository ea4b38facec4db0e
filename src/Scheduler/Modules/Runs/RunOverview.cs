using Mediator;
using Npgsql;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The dashboard's numbers in one round trip: active runs by state (partial index), failed
/// runs in the last day and the newest failures (partial index on failed runs), and queued
/// task instances (the queue's partial indexes).
/// </summary>
internal static class RunOverview
{
    public sealed record Failure(long RunId, string DagName, DateTimeOffset LogicalDate, DateTimeOffset? FinishedAt);

    public sealed record Result(int QueuedRuns, int RunningRuns, int FailedRunsLastDay, int QueuedTasks, int RunningTasks, IReadOnlyList<Failure> RecentFailures);

    /// <param name="DagNames">Count only the runs of these DAGs (a caller with team roles only: the DAGs of their teams); null: all.</param>
    public sealed record Query(int Failures = 10, IReadOnlyList<string>? DagNames = null) : IQuery<Result>;

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, Result>
    {
        public async ValueTask<Result> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var batch = dataSource.CreateBatch();
            // $1: the DAG names to count, or null for all (the planner drops the test when it is null).
            const string Dags = "($1::text[] is null or dag_name = any($1))";
            batch.BatchCommands.Add(Filtered($"""
                select count(*) filter (where state = 'queued'), count(*) filter (where state = 'running')
                from runs.dag_runs where state in ('queued', 'running') and {Dags}
                """, query));
            batch.BatchCommands.Add(Filtered($"select count(*) from runs.dag_runs where state = 'failed' and finished_at > now() - interval '1 day' and {Dags}", query));
            batch.BatchCommands.Add(Filtered(query.DagNames is null
                ? """
                  select count(*) filter (where state = 'queued'), count(*) filter (where state = 'running')
                  from runs.task_instances where state in ('queued', 'running') and $1::text[] is null
                  """
                : """
                  select count(*) filter (where t.state = 'queued'), count(*) filter (where t.state = 'running')
                  from runs.task_instances t join runs.dag_runs r on r.id = t.run_id
                  where t.state in ('queued', 'running') and r.dag_name = any($1)
                  """, query));
            var failures = Filtered($"""
                select id, dag_name, logical_date, finished_at from runs.dag_runs
                where state = 'failed' and {Dags} order by finished_at desc nulls last limit $2
                """, query);
            failures.Parameters.Add(new NpgsqlParameter { Value = query.Failures });
            batch.BatchCommands.Add(failures);

            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var (queuedRuns, runningRuns) = ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var failedDay = (int)reader.GetInt64(0);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var (queuedTasks, runningTasks) = ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
            await reader.NextResultAsync(cancellationToken);
            var recent = new List<Failure>();
            while (await reader.ReadAsync(cancellationToken))
                recent.Add(new Failure(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
            return new Result(queuedRuns, runningRuns, failedDay, queuedTasks, runningTasks, recent);
        }

        private static NpgsqlBatchCommand Filtered(string sql, Query query)
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)query.DagNames?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            return command;
        }
    }
}
