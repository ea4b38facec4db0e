using Npgsql;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// One transaction on one run, holding the run's row lock: every change of task state in
/// a run goes through here, so downstream resolution and the run's counters are decided by
/// one writer at a time per run (two upstream tasks of a fan-in finishing together cannot
/// both miss that the other is done). Different runs proceed in parallel.
/// </summary>
internal sealed partial class RunTransaction
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _tx;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, string> _states = new(StringComparer.Ordinal);
    private int _unfinished;
    private int _failed;

    public long RunId { get; }
    public long DagId { get; }
    public string DagName { get; }
    public string State { get; private set; }
    public RunGraph Graph { get; }
    public bool QueuedAny { get; private set; }
    public bool QueuedConstrained { get; private set; }
    public bool RunFinished { get; private set; }
    /// <summary>The last save changed the run's state (started, finished, reopened by a clear).</summary>
    public bool RunStateChanged { get; private set; }
    public List<(string TaskId, int? MapIndex, string State)> Changes { get; } = [];

    /// <summary>Notification events, written to the outbox in this transaction by <see cref="RunUnitOfWork.CommitRunsAsync"/>.</summary>
    public List<OutboxEvent> Events { get; } = [];

    /// <summary>Adds a notification event of this run, saying whether a rule of its DAG names the kind.</summary>
    public void AddEvent(string kind, string dedupKey, string? taskId = null, int? attempt = null, string? detail = null) =>
        Events.Add(new OutboxEvent(kind, dedupKey, DagName, RunId, taskId, attempt, detail,
            DagRuleNamesIt: Graph.Plan.Notifications?.Any(r => r.On.Contains(kind)) == true));

    private RunTransaction(NpgsqlConnection connection, NpgsqlTransaction tx, TimeProvider clock, long runId, long dagId, string dagName, string state, int unfinished, int failed, RunGraph graph)
    {
        _connection = connection;
        _tx = tx;
        _clock = clock;
        RunId = runId;
        DagId = dagId;
        DagName = dagName;
        State = state;
        _unfinished = unfinished;
        _failed = failed;
        Graph = graph;
    }

    private string? _forcedState;

    public NpgsqlConnection Connection => _connection;
    public NpgsqlTransaction Transaction => _tx;

    public NpgsqlCommand Command(string sql) => new(sql, _connection, _tx);

    /// <summary>The run ends (or starts) in this state whatever its counters say: cancel, start.</summary>
    public void ForceState(string state) => _forcedState = state;

    /// <summary>
    /// Locks several runs in one statement, in id order (so two batches sharing runs wait for
    /// each other instead of deadlocking), and loads their graphs. Runs that do not exist are
    /// absent, and so are runs whose pinned DAG version is gone: a DAG is deleted only while
    /// none of its runs is active, so such a run is finished and there is nothing to decide.
    /// </summary>
    public static async Task<Dictionary<long, RunTransaction>> BeginManyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IReadOnlyCollection<long> runIds, Func<long, int, Task<DagPlan?>> plans, TimeProvider clock, CancellationToken ct)
    {
        var rows = new List<(long Id, long DagId, int Version, string State, int Unfinished, int Failed, string DagName)>();
        await using (var cmd = new NpgsqlCommand("select id, dag_id, dag_version, state, unfinished_tasks, failed_tasks, dag_name from runs.dag_runs where id = any(@ids) order by id for update", connection, tx))
        {
            cmd.Parameters.AddWithValue("ids", runIds.Distinct().ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetString(3), reader.GetInt32(4), reader.GetInt32(5), reader.GetString(6)));
        }
        var runs = new Dictionary<long, RunTransaction>(rows.Count);
        foreach (var row in rows)
            if (await plans(row.DagId, row.Version) is { } plan)
                runs[row.Id] = new RunTransaction(connection, tx, clock, row.Id, row.DagId, row.DagName, row.State, row.Unfinished, row.Failed, RunGraph.For(plan));
        return runs;
    }

    /// <summary>Current states of these tasks (read once per transaction, then tracked).</summary>
    public async Task<IReadOnlyDictionary<string, string>> StatesAsync(IEnumerable<string> taskIds, CancellationToken ct)
    {
        var missing = taskIds.Where(t => !_states.ContainsKey(t)).Distinct().ToArray();
        if (missing.Length > 0)
        {
            await using var cmd = Command("select task_id, state from runs.task_instances where run_id = @run and task_id = any(@ids) and map_index = -1");
            cmd.Parameters.AddWithValue("run", RunId);
            cmd.Parameters.AddWithValue("ids", missing);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                _states[reader.GetString(0)] = reader.GetString(1);
        }
        return _states;
    }

    /// <summary>Records a transition already written to the table (by the caller's own UPDATE).</summary>
    public void Track(string taskId, string oldState, string newState)
    {
        _states[taskId] = newState;
        Counted(taskId, null, oldState, newState);
    }

    /// <summary>The run's counters, its changes and its queue flags follow a row's move (null: a row just inserted; <paramref name="mapIndex"/>: an instance of a mapped task).</summary>
    private void Counted(string taskId, int? mapIndex, string? oldState, string newState)
    {
        Changes.Add((taskId, mapIndex, newState));
        var wasFinal = oldState is null || TaskStates.IsFinal(oldState);
        if (TaskStates.IsFinal(newState) && !wasFinal)
            _unfinished--;
        else if (!TaskStates.IsFinal(newState) && wasFinal)
            _unfinished++;
        _failed += (TaskStates.IsUnsuccessful(newState) ? 1 : 0) - (oldState is not null && TaskStates.IsUnsuccessful(oldState) ? 1 : 0);
        if (newState == TaskStates.Queued)
        {
            QueuedAny = true;
            if (Graph.Plan.MaxActiveTasks is not null || (Graph.Tasks.TryGetValue(taskId, out var plan) && plan.Pool != "default"))
                QueuedConstrained = true;
        }
    }

    /// <summary>
    /// The eager hand-off claimed <paramref name="claimedTaskIds"/> of this run in this
    /// transaction: when every task it queued is among them, nothing of it is left queued and
    /// no worker needs waking for it (the epilogue's NOTIFY is for tasks left queued).
    /// </summary>
    public void HandedOff(IReadOnlySet<string> claimedTaskIds)
    {
        // Instances of a mapped task share its id, so a hand-off of some says nothing about the rest.
        if (QueuedAny && !_queuedInstances && Changes.Where(c => c.State == TaskStates.Queued).All(c => claimedTaskIds.Contains(c.TaskId)))
            QueuedAny = QueuedConstrained = false;
    }

    /// <summary>
    /// Moves tasks from one of <paramref name="fromStates"/> to <paramref name="newState"/>;
    /// returns the ones that actually moved (a task in another state is left alone).
    /// </summary>
    public async Task<IReadOnlyList<string>> SetAsync(IReadOnlyCollection<string> taskIds, string newState, string[] fromStates, CancellationToken ct)
    {
        if (taskIds.Count == 0)
            return [];
        await using var cmd = Command($"""
            with old as (
                select id, state from runs.task_instances
                where run_id = @run and task_id = any(@ids) and state = any(@from) and map_index = -1
                for update)
            update runs.task_instances ti set {Timestamps(newState)} state = @state, worker_id = null, lease_expires_at = null, wait_deadline = null, wait_poke = false
            from old where ti.id = old.id
            returning ti.task_id, old.state
            """);
        cmd.Parameters.AddWithValue("run", RunId);
        cmd.Parameters.AddWithValue("ids", taskIds.ToArray());
        cmd.Parameters.AddWithValue("from", fromStates);
        cmd.Parameters.AddWithValue("state", newState);
        var moved = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                moved.Add(reader.GetString(0));
                Track(reader.GetString(0), reader.GetString(1), newState);
            }
        return moved;
    }

    /// <summary>The timestamps a row moving to <paramref name="newState"/> gets, as SET clauses.</summary>
    private static string Timestamps(string newState) => newState switch
        {
            TaskStates.Queued => "queued_at = now(), finished_at = null, not_before = null, started_at = null,",
            TaskStates.Pending => "queued_at = null, finished_at = null, not_before = null, started_at = null,",
            TaskStates.Running => "finished_at = null, not_before = null,",
            _ when TaskStates.IsFinal(newState) => "finished_at = coalesce(finished_at, now()), not_before = null,",
            _ => "",
        };

    /// <summary>
    /// Decides every pending task downstream of <paramref name="changed"/> by its trigger
    /// rule, and keeps going through what that decides (a skip or upstream failure propagates).
    /// </summary>
    public async Task ResolveDownstreamAsync(IEnumerable<string> changed, CancellationToken ct)
    {
        var frontier = changed.ToList();
        while (frontier.Count > 0)
        {
            var candidates = frontier.SelectMany(t => Graph.Downstream.TryGetValue(t, out var d) ? d : []).Distinct().ToList();
            if (candidates.Count == 0)
                break;
            var states = await StatesAsync(candidates.Concat(candidates.SelectMany(c => Graph.Tasks[c].DependsOn)), ct);
            // A mapped upstream's instances matter once it has finished, or to a rule that may
            // fire while it runs (one_success, one_failed); other rules wait on its own row.
            await InstancesAsync(candidates.Where(c => states.TryGetValue(c, out var s) && s == TaskStates.Pending)
                .SelectMany(c => Graph.Tasks[c].DependsOn.Where(d => TaskStates.IsFinal(states[d]) || Graph.Tasks[c].TriggerRule is "one_success" or "one_failed")), ct);
            var decided = new Dictionary<TriggerDecision, List<string>>();
            foreach (var candidate in candidates)
            {
                if (!states.TryGetValue(candidate, out var state) || state != TaskStates.Pending)
                    continue;
                var task = Graph.Tasks[candidate];
                var decision = TriggerRuleEvaluator.Evaluate(task.TriggerRule, UpstreamStates(task, states));
                if (decision == TriggerDecision.Wait)
                    continue;
                if (!decided.TryGetValue(decision, out var list))
                    decided[decision] = list = [];
                list.Add(candidate);
            }
            frontier = [];
            foreach (var (decision, tasks) in decided)
            {
                var target = decision switch
                {
                    TriggerDecision.Run => TaskStates.Queued,
                    TriggerDecision.Skip => TaskStates.Skipped,
                    _ => TaskStates.UpstreamFailed,
                };
                var moved = await SetAsync(tasks, target, [TaskStates.Pending], ct);
                if (target != TaskStates.Queued)
                    frontier.AddRange(moved);
            }
        }
    }

    /// <summary>
    /// Writes the counters and, when no task can run any more, the run's final state.
    /// A cleared task re-opens a finished run; a re-opened run drops its DAG timeout (its
    /// deadline, counted from the first start, has passed or would cut the rerun short) and
    /// the reason its last end gave.
    /// </summary>
    public Task SaveRunAsync(CancellationToken ct) => SaveRunsAsync([this], ct);

    /// <summary>
    /// <see cref="SaveRunAsync"/> for several runs of one transaction in one statement (a batch
    /// of completions that finishes a hundred single-task runs writes them together).
    /// </summary>
    public static async Task SaveRunsAsync(IReadOnlyList<RunTransaction> runs, CancellationToken ct)
    {
        if (runs.Count == 0)
            return;
        var states = runs.Select(r => r.Decide()).ToArray();
        await using var cmd = runs[0].Command("""
            update runs.dag_runs r set unfinished_tasks = v.u, failed_tasks = v.f, state = v.s,
                started_at = case when v.s = 'running' then coalesce(r.started_at, clock_timestamp()) else r.started_at end,
                finished_at = case when v.s in ('success', 'failed', 'cancelled') then coalesce(r.finished_at, now()) else null end,
                run_timeout = case when r.state in ('success', 'failed', 'cancelled') and v.s not in ('success', 'failed', 'cancelled') then null else r.run_timeout end,
                reason = case when v.s in ('success', 'failed', 'cancelled') then r.reason end
            from unnest(@ids, @u, @f, @s) as v(id, u, f, s)
            where r.id = v.id
            """);
        cmd.Parameters.AddWithValue("ids", runs.Select(r => r.RunId).ToArray());
        cmd.Parameters.AddWithValue("u", runs.Select(r => Math.Max(r._unfinished, 0)).ToArray());
        cmd.Parameters.AddWithValue("f", runs.Select(r => r._failed).ToArray());
        cmd.Parameters.AddWithValue("s", states);
        await cmd.ExecuteNonQueryAsync(ct);
        for (var i = 0; i < runs.Count; i++)
            runs[i].Saved(states[i]);
    }

    private string Decide() =>
        _forcedState
            ?? (_unfinished <= 0
                ? (_failed > 0 ? RunStates.Failed : RunStates.Success)
                : (RunStates.IsFinal(State) ? RunStates.Running : State));

    private void Saved(string newState)
    {
        RunFinished = RunStates.IsFinal(newState) && !RunStates.IsFinal(State);
        RunStateChanged = newState != State;
        State = newState;
        if (RunFinished && newState is RunStates.Success or RunStates.Failed)
        {
            var kind = newState == RunStates.Success ? NotificationEvents.RunSuccess : NotificationEvents.RunFailure;
            AddEvent(kind, $"{kind}:{RunId}:{_clock.GetUtcNow().UtcTicks}");
        }
    }
}
