using Npgsql;
using NpgsqlTypes;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs.Events;

/// <summary>
/// The event log behind <c>GET /events/stream</c> and gRPC <c>RunService.Watch</c>: every task
/// state change and every run's end that a run transaction's epilogue commits, a run's creation
/// (<c>queued</c>) and start (<c>running</c>), and a task's claim (<c>running</c>); each
/// transaction appends by ONE statement (a multi-row insert from arrays, which also sends the
/// wake-up NOTIFY; a claim's rows are a CTE of the claim itself), never one per task.
/// Rows carry their transaction's id, which is what makes reading them in order exact
/// (<see cref="EventHub"/>).
/// </summary>
internal static class RunEvents
{
    public const string Channel = "scheduler_events";

    /// <summary>One row of the log: a task's new state, or (no task) the run's; <paramref name="MapIndex"/> for an instance of a mapped task.</summary>
    public readonly record struct Row(string Dag, long RunId, string? TaskId, string State, int? MapIndex = null);

    /// <summary>The epilogue's rows: per run, a new run state (a start) first, then every task change, then a run's end; then <paramref name="after"/> (tasks handed off in the same transaction).</summary>
    public static Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<RunTransaction> runs, CancellationToken ct, IReadOnlyList<Row>? after = null)
    {
        var rows = new List<Row>();
        foreach (var run in runs)
        {
            var final = Engine.RunStates.IsFinal(run.State);
            if (run.RunStateChanged && !final)
                rows.Add(new Row(run.DagName, run.RunId, null, run.State));
            foreach (var (taskId, mapIndex, state) in run.Changes)
                rows.Add(new Row(run.DagName, run.RunId, taskId, state, mapIndex));
            if (run.RunStateChanged && final)
                rows.Add(new Row(run.DagName, run.RunId, null, run.State));
        }
        rows.AddRange(after ?? []);
        return AppendAsync(connection, tx, rows, ct);
    }

    /// <summary>Appends the rows in ONE statement (nothing when there are none), which also sends the wake-up NOTIFY at commit.</summary>
    public static async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyList<Row> rows, CancellationToken ct)
    {
        if (rows.Count == 0)
            return;
        await using var cmd = new NpgsqlCommand($"""
            with e as (
                insert into runs.events (dag, run_id, task_id, state, map_index)
                select * from unnest(@dags, @runs, @tasks, @states, @maps)
                returning 1)
            select pg_notify('{Channel}', '') from (select 1 from e limit 1) as one
            """, connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter("dags", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.Dag).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("runs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = rows.Select(r => r.RunId).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("tasks", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => (object?)r.TaskId ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("states", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = rows.Select(r => r.State).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("maps", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = rows.Select(r => r.MapIndex).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Two CTEs for a statement that moves tasks outside a run transaction (a claim, a retry's
    /// promotion, a requeue): the <paramref name="state"/> row of each task of the CTE
    /// <paramref name="from"/> (<c>run_id, task_id, map_index</c>) and the NOTIFY, inside that statement, so
    /// the hot path pays no extra round trip. The statement must read <see cref="Woken"/> (a
    /// plain SELECT CTE runs only when referenced).
    /// </summary>
    public static string TaskEventsCte(string from, string state) => $"""
        {from}_logged as (
            insert into runs.events (dag, run_id, task_id, state, map_index)
            select r.dag_name, c.run_id, c.task_id, '{state}', nullif(c.map_index, -1) from {from} c join runs.dag_runs r on r.id = c.run_id
            returning 1),
        {from}_woke as (select pg_notify('{Channel}', '') from (select 1 from {from}_logged limit 1) as one)
        """;

    /// <summary>The join that makes <see cref="TaskEventsCte"/>'s NOTIFY run.</summary>
    public static string Woken(string from) => $"cross join (select count(*) from {from}_woke) as {from}_notified";
}
