using Npgsql;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// Backfill runs wait as queued and start under their backfill's <c>max_active_runs</c>, not
/// the DAG's: scheduled runs neither count them nor queue behind them. Decided under the
/// DAG's run-start lock, with the DAG's other waiting runs (<see cref="RunUnitOfWork.TryStartWaitingRunsAsync"/>).
/// </summary>
internal static class BackfillStarts
{
    /// <summary>
    /// Ends the running backfills of these DAGs that have nothing queued or running left
    /// (completed), then returns the runs to start: per backfill the oldest queued ones, as
    /// many as its limit leaves room for. The caller holds the DAGs' run-start locks.
    /// </summary>
    public static async Task<List<long>> NextAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long[] dagIds, CancellationToken ct)
    {
        await using (var done = new NpgsqlCommand("""
            update runs.backfills b set state = 'completed', finished_at = now()
            where b.dag_id = any(@dags) and b.state = 'running'
              and not exists (select 1 from runs.dag_runs r where r.backfill_id = b.id and r.state in ('queued', 'running'))
            """, connection, tx))
        {
            done.Parameters.AddWithValue("dags", dagIds);
            await done.ExecuteNonQueryAsync(ct);
        }
        var next = new List<long>();
        await using var cmd = new NpgsqlCommand("""
            select w.id
            from runs.backfills b
            cross join lateral (
                select id, logical_date from runs.dag_runs
                where backfill_id = b.id and state = 'queued'
                order by logical_date, id
                limit greatest(0, b.max_active_runs - (select count(*) from runs.dag_runs where backfill_id = b.id and state = 'running'))) w
            where b.dag_id = any(@dags) and b.state = 'running'
            order by b.id, w.logical_date, w.id
            """, connection, tx);
        cmd.Parameters.AddWithValue("dags", dagIds);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            next.Add(reader.GetInt64(0));
        return next;
    }
}
