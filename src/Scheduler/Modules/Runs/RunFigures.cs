using Mediator;
using Npgsql;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The figures of a DAG's last runs that its page draws: how long each took, when it landed
/// against when it was due (a scheduled run is due at its logical date, a manual one when it
/// was queued), and how many tries its tasks needed. One statement over the history index;
/// the tries of a run are read through the task instances' run index.
/// </summary>
internal static class RunFigures
{
    public sealed record Run(long RunId, DateTimeOffset LogicalDate, string RunType, string State,
        DateTimeOffset QueuedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, int Tasks, int Tries)
    {
        public DateTimeOffset Due => RunType == "scheduled" ? LogicalDate : QueuedAt;
        public TimeSpan? Duration => StartedAt is { } s && FinishedAt is { } f ? f - s : null;
        public TimeSpan? Landing => FinishedAt is { } f ? f - Due : null;
    }

    /// <summary>Oldest first.</summary>
    public sealed record Query(string DagName, int Limit) : IQuery<IReadOnlyList<Run>>;

    public sealed class Handler(NpgsqlDataSource dataSource) : IQueryHandler<Query, IReadOnlyList<Run>>
    {
        public async ValueTask<IReadOnlyList<Run>> Handle(Query query, CancellationToken cancellationToken)
        {
            await using var cmd = dataSource.CreateCommand("""
                select r.id, r.logical_date, r.run_type, r.state, r.queued_at, r.started_at, r.finished_at, t.tasks, t.tries
                from (select * from runs.dag_runs where dag_name = @n order by logical_date desc, id desc limit @limit) r
                cross join lateral (select count(*)::int as tasks, coalesce(sum(attempt), 0)::int as tries
                                    from runs.task_instances where run_id = r.id) t
                order by r.logical_date, r.id
                """);
            cmd.Parameters.AddWithValue("n", query.DagName);
            cmd.Parameters.AddWithValue("limit", query.Limit);
            var runs = new List<Run>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                runs.Add(new Run(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3),
                    reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7), reader.GetInt32(8)));
            return runs;
        }
    }
}
