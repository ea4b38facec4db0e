using System.Text.Json.Nodes;
using Npgsql;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs.Backfills;

/// <summary>
/// What a backfill does to runs. The dry run and the real call choose their dates with the
/// same <see cref="SelectAsync"/>, so a dry run lists exactly what the real call creates.
/// </summary>
internal sealed class BackfillRuns(NpgsqlDataSource dataSource, RunCreator creator, RunUnitOfWork unit)
{
    /// <summary>Runs are created this many per transaction: 10,000 dates are two statements per chunk, not 10,000 transactions.</summary>
    private const int Chunk = 5_000;

    /// <summary>
    /// Airflow 3's reprocess behaviours over the schedule's dates: <c>missing</c> keeps dates
    /// with no run; <c>failed</c> also those whose run failed; <c>all</c> every date whose run
    /// is not queued or running (an active run is never reset). Returns the dates and, for
    /// dates with a finished run to rerun, that run's id.
    /// </summary>
    public async Task<List<(DateTimeOffset Date, long? RunId)>> SelectAsync(long dagId, IReadOnlyList<DateTimeOffset> dates, string reprocess, CancellationToken ct)
    {
        var existing = new Dictionary<long, (long Id, string State)>();
        await using (var cmd = dataSource.CreateCommand("select id, logical_date, state from runs.dag_runs where dag_id = @d and logical_date = any(@l)"))
        {
            cmd.Parameters.AddWithValue("d", dagId);
            cmd.Parameters.AddWithValue("l", dates.Select(RunCreator.ToMicroseconds).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                existing[reader.GetFieldValue<DateTimeOffset>(1).UtcTicks] = (reader.GetInt64(0), reader.GetString(2));
        }
        var selected = new List<(DateTimeOffset, long?)>();
        foreach (var date in dates.Select(RunCreator.ToMicroseconds))
        {
            if (!existing.TryGetValue(date.UtcTicks, out var run))
                selected.Add((date, null));
            else if (reprocess == "failed" && run.State == RunStates.Failed
                     || reprocess == "all" && run.State is not (RunStates.Queued or RunStates.Running))
                selected.Add((date, run.Id));
        }
        return selected;
    }

    /// <summary>
    /// Creates the backfill's runs (queued, in chunks) and resets the finished runs it reruns,
    /// then lets it start. A date whose run appeared meanwhile (the schedule, a trigger) is
    /// left to that run: the unique key decides, and <c>created</c> counts what this made.
    /// </summary>
    public async Task<int> CreateAsync(long backfillId, DagPlan plan, IReadOnlyList<(DateTimeOffset Date, long? RunId)> selected, string? actor, CancellationToken ct)
    {
        var created = 0;
        foreach (var chunk in selected.Where(s => s.RunId is null).Chunk(Chunk))
        {
            var runs = chunk.Select(s => new NewRun(plan, s.Date, "backfill", new JsonObject(), actor, BackfillId: backfillId)).ToList();
            created += (await creator.CreateRunsAsync(runs, ct)).Count(id => id is not null);
        }
        var rerun = selected.Where(s => s.RunId is not null).Select(s => s.RunId!.Value).ToArray();
        if (rerun.Length > 0)
            created += await ResetAsync(backfillId, plan, rerun, ct);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using (var cmd = new NpgsqlCommand("update runs.backfills set state = 'running', created = @c where id = @id and state = 'queued'", connection))
        {
            cmd.Parameters.AddWithValue("id", backfillId);
            cmd.Parameters.AddWithValue("c", created);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await unit.TryStartWaitingRunsAsync(connection, [(plan.DagId, plan.MaxActiveRuns)], ct);
        return created;
    }

    /// <summary>
    /// Puts finished runs back in the queue as this backfill's, every task pending again with
    /// fresh attempts (the counter continues, the retries apply again), as a clear does.
    /// Under the DAG's run-start lock; a run that became active meanwhile is left alone.
    /// </summary>
    private async Task<int> ResetAsync(long backfillId, DagPlan plan, long[] runIds, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await RunUnitOfWork.LockDagsAsync(connection, tx, [plan.DagId], ct);
        await using var cmd = new NpgsqlCommand("""
            with reset as (
                update runs.dag_runs r set state = 'queued', backfill_id = @b, queued_at = now(), started_at = null, finished_at = null,
                    failed_tasks = 0, sla_deadline = null, sla_missed_at = null,
                    unfinished_tasks = (select count(*) from runs.task_instances t where t.run_id = r.id)
                where r.id = any(@ids) and r.state in ('success', 'failed', 'cancelled')
                returning r.id),
            tasks as (
                update runs.task_instances t set state = 'pending', queued_at = null, not_before = null, started_at = null,
                    finished_at = null, worker_id = null, lease_expires_at = null,
                    max_attempts = t.attempt + coalesce((select m.max from unnest(@tids, @max) as m(task_id, max) where m.task_id = t.task_id), 1)
                from reset where t.run_id = reset.id)
            select count(*)::int from reset
            """, connection, tx);
        cmd.Parameters.AddWithValue("b", backfillId);
        cmd.Parameters.AddWithValue("ids", runIds);
        cmd.Parameters.AddWithValue("tids", plan.Tasks.Select(t => t.Id).ToArray());
        cmd.Parameters.AddWithValue("max", plan.Tasks.Select(t => t.MaxAttempts).ToArray());
        var count = (int)(await cmd.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        return count;
    }

    /// <summary>
    /// Stops the backfill: it starts nothing more and its queued runs are cancelled (their
    /// tasks never started); runs already running finish. False when it was already over.
    /// </summary>
    public async Task<bool?> CancelAsync(long backfillId, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        long dagId;
        string state;
        await using (var read = new NpgsqlCommand("select dag_id, state from runs.backfills where id = @id", connection, tx))
        {
            read.Parameters.AddWithValue("id", backfillId);
            await using var reader = await read.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                return null;
            (dagId, state) = (reader.GetInt64(0), reader.GetString(1));
        }
        if (state is "completed")
            return false;
        // The DAG's run-start lock: nothing starts one of these runs while they are cancelled.
        await RunUnitOfWork.LockDagsAsync(connection, tx, [dagId], ct);
        await using var cmd = new NpgsqlCommand("""
            with b as (update runs.backfills set state = 'cancelled', finished_at = coalesce(finished_at, now())
                       where id = @id and state in ('queued', 'running') returning id),
            runs as (update runs.dag_runs set state = 'cancelled', finished_at = now(), unfinished_tasks = 0
                     where backfill_id = @id and state = 'queued' returning id)
            update runs.task_instances t set state = 'cancelled', finished_at = now()
            from runs where t.run_id = runs.id and t.state in ('pending', 'queued')
            """, connection, tx);
        cmd.Parameters.AddWithValue("id", backfillId);
        await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return true;
    }
}
