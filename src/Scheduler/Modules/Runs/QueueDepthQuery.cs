using Mediator;
using Npgsql;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>
/// Each count reads one partial index's rows (a predicate the planner matches to the index);
/// a single <c>state = any(...)</c> would risk a scan of every task instance ever kept.
/// </summary>
internal sealed class QueueDepthQuery(NpgsqlDataSource dataSource) : IQueryHandler<GetQueueDepth, IReadOnlyList<QueueDepth>>
{
    public async ValueTask<IReadOnlyList<QueueDepth>> Handle(GetQueueDepth query, CancellationToken cancellationToken)
    {
        // An expanded mapped task's own row is 'running' without a worker: it holds no slot.
        await using var cmd = dataSource.CreateCommand("""
            with counts as (
                select 'queued' as state, pool, count(*) as n from runs.task_instances where state = 'queued' and not constrained group by pool
                union all select 'queued', pool, count(*) from runs.task_instances where state = 'queued' and constrained group by pool
                union all select 'running', pool, count(*) from runs.task_instances where state = 'running' and worker_id is not null group by pool
                union all select 'up_for_retry', pool, count(*) from runs.task_instances where state = 'up_for_retry' group by pool
                union all select 'waiting', pool, count(*) from runs.task_instances where state = 'waiting' group by pool)
            select s.state, p.pool, coalesce(sum(c.n), 0)::int
            from (values ('queued'), ('running'), ('up_for_retry'), ('waiting')) as s(state)
            cross join (select name as pool from runs.pools union select pool from counts) as p
            left join counts c on c.state = s.state and c.pool = p.pool
            group by s.state, p.pool
            order by s.state, p.pool
            """);
        var depth = new List<QueueDepth>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            depth.Add(new QueueDepth(reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        return depth;
    }
}
