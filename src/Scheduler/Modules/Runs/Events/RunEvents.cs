using Npgsql;
using NpgsqlTypes;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs.Events;

/// <summary>
/// The event log behind <c>GET /events/stream</c>: every task state change and every run's end
/// that a run transaction's epilogue commits, appended by ONE statement per epilogue (a
/// multi-row insert from arrays, which also sends the wake-up NOTIFY), never one per task.
/// Rows carry their transaction's id, which is what makes reading them in order exact
/// (<see cref="EventHub"/>).
/// </summary>
internal static class RunEvents
{
    public const string Channel = "scheduler_events";

    public static async Task AppendAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<RunTransaction> runs, CancellationToken ct)
    {
        var dags = new List<string>();
        var runIds = new List<long>();
        var tasks = new List<string?>();
        var states = new List<string>();
        foreach (var run in runs)
        {
            foreach (var (taskId, state) in run.Changes)
            {
                dags.Add(run.DagName);
                runIds.Add(run.RunId);
                tasks.Add(taskId);
                states.Add(state);
            }
            if (run.RunFinished)
            {
                dags.Add(run.DagName);
                runIds.Add(run.RunId);
                tasks.Add(null);
                states.Add(run.State);
            }
        }
        if (runIds.Count == 0)
            return;
        await using var cmd = new NpgsqlCommand($"""
            with e as (
                insert into runs.events (dag, run_id, task_id, state)
                select * from unnest(@dags, @runs, @tasks, @states)
                returning 1)
            select pg_notify('{Channel}', '') from (select 1 from e limit 1) as one
            """, connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter("dags", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = dags.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("runs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = runIds.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("tasks", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = tasks.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("states", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = states.ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
