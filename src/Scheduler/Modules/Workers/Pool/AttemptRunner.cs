using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mediator;
using Microsoft.Extensions.Options;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Telemetry;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Infrastructure.Templates;
using Scheduler.Modules.Workers.Executors;
using Scheduler.Modules.Workers.Templates;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// Runs one claimed attempt: its plan, its executor, its timeout and cancellation, its log
/// flushing; then hands the outcome to the recorder. Whatever the executor does (returns,
/// throws anything, throws after its token fired), the attempt ends with an outcome and
/// its slot is freed: timed_out when the timeout fired, cancelled when it was stopped,
/// failed otherwise. An attempt interrupted by shutdown is not recorded: the pool hands it
/// back to the queue under the same attempt number.
/// </summary>
internal sealed partial class AttemptRunner(
    IServiceScopeFactory scopes,
    WorkerIdentity worker,
    ExecutorRegistry executors,
    Connections.ConnectionSecrets connections,
    RunningAttempts attempts,
    ClaimSignal signal,
    OutcomeRecorder recorder,
    TaskTemplating templating,
    IOptions<WorkerOptions> options,
    SchedulerMetrics metrics,
    TimeProvider time,
    ILogger<AttemptRunner> logger)
{
    private static readonly TimeSpan FlushPeriod = TimeSpan.FromSeconds(1);
    private readonly WorkerOptions _options = options.Value;

    private readonly record struct Result(AttemptOutcome Outcome, int? Code, string? Error, string? Output = null, IReadOnlyList<string>? Follow = null,
        DateTimeOffset? WakeAt = null, bool Poke = false);

    /// <summary>Takes a slot and starts the attempt on the thread pool.</summary>
    public void Start(ClaimedTask task)
    {
        metrics.TaskStartDelay(task.QueuedSeconds, task.DagName);
        var attempt = new RunningAttempt(task, new CancellationTokenSource());
        // The attempt's body starts only once it is in the table, so a stop (cancel, lost
        // lease, shutdown) can always find it.
        var started = new TaskCompletionSource();
        // Each attempt starts from a clean context: a handed-off task is started from inside
        // its predecessor's recording, whose log scope would otherwise nest into every next
        // step of a chain.
        using (ExecutionContext.SuppressFlow())
            attempt.Execution = Task.Run(async () =>
            {
                await started.Task;
                await RunAsync(attempt);
            });
        attempts.Add(attempt);
        started.SetResult();
    }

    private async Task RunAsync(RunningAttempt attempt)
    {
        var task = attempt.Task;
        // Whatever is logged about this attempt (by executors, the recorder, the engine) says which it is.
        using var scope = logger.BeginScope(new Dictionary<string, object?>
        {
            ["run_id"] = task.RunId,
            ["dag"] = task.DagName,
            ["task_id"] = task.TaskId,
            ["map_index"] = task.MapIndex < 0 ? null : task.MapIndex,
            ["attempt"] = task.Attempt,
            ["trace_id"] = RunTracing.TraceId(task.TraceParent),
        });
        var log = new AttemptLog(_options.MaxLogChars);
        var began = time.GetTimestamp();
        Result result;
        try
        {
            result = await ExecuteAsync(attempt, log);
        }
        catch (Exception e)
        {
            // Not the executor's (it is caught below): still the attempt ends and frees its slot.
            result = new Result(AttemptOutcome.Failed, null, $"the worker failed running the attempt: {e.Message}");
        }

        // An error may quote a URI with its credentials (an exception's message): masked, as the log is.
        if (result.Error is not null)
            result = result with { Error = SecretMask.MaskValues(SecretMask.Mask(result.Error), log.Secrets) };
        if (attempt.StopReason == StopReason.Shutdown)
        {
            attempts.Remove(task.TaskInstanceId);
            attempt.Cancel.Dispose();
            return;
        }
        metrics.TaskDuration(time.GetElapsedTime(began), task.DagName);
        if (result.Error is not null)
            log.WriteLine($"--- {result.Error} ---");
        // The slot frees as soon as the work is done. With a backlog the next claim overlaps
        // the recording of this outcome; without one, claiming waits for the commit (below),
        // which is when this task's downstream tasks become claimable. Unless the claim loop
        // has a backlog to batch (or the worker is stopping, or recordings pile up), the slot
        // is kept for a hand-off instead: the recording's transaction claims this slot's next
        // task itself (a chain's next step, without a NOTIFY and a claim round trip).
        var handOff = attempts.BeginRecording(task.TaskInstanceId,
            keepSlot: !signal.Stopped && !signal.Backlog && attempts.RecordingCount < _options.RecordingBacklog);
        attempt.Cancel.Dispose();
        if (signal.Backlog)
            signal.Wake();
        ClaimedTask? next = null;
        try
        {
            next = await recorder.RecordAsync(new CompleteTask(task.TaskInstanceId, task.RunId, task.TaskId, task.Attempt, worker.Id,
                result.Outcome, result.Code, PostgresText.CleanOrNull(result.Error), log.Take(final: true), result.Output, result.Follow, result.WakeAt, result.Poke), handOff);
            if (next is not null)
                Start(next);
        }
        finally
        {
            if (handOff)
                attempts.Release(1);
            attempts.Recorded(task.TaskInstanceId);
            // A slot that went to a handed-off task frees nothing to claim for; the claim loop is
            // still woken when it may be held back by the recording backlog.
            if (next is null || attempts.RecordingCount >= _options.RecordingBacklog - 1)
                signal.Wake();
        }
    }

    private async Task<Result> ExecuteAsync(RunningAttempt attempt, AttemptLog log)
    {
        var task = attempt.Task;
        var stopped = attempt.Cancel.Token;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var sender = scope.ServiceProvider.GetRequiredService<ISender>();
            // The Dags module caches plans per (dag, version) for the process: no round trip per attempt.
            var dag = await sender.Send(new GetDagPlanVersion(task.DagId, task.DagVersion), stopped);
            var plan = dag?.Tasks.FirstOrDefault(t => t.Id == task.TaskId);
            if (dag is null || plan is null)
                return new Result(AttemptOutcome.Failed, null, $"Task '{task.TaskId}' is not in version {task.DagVersion} of DAG '{task.DagName}'.");
            if (plan.MapOver is { } mapOver && task.MapIndex < 0)
                return await ExpandAsync(task, dag, plan, mapOver, sender, log, stopped);
            if (!executors.TryGet(plan.Type, out var executor))
                return new Result(AttemptOutcome.Failed, null, $"No executor for task type '{plan.Type}' on worker {worker.Id}.");
            JsonObject spec;
            try
            {
                (spec, log.Secrets) = await templating.RenderAsync(task, dag, plan, sender, stopped);
            }
            catch (TemplateException e)
            {
                // Never run with a blank where a value was meant: the attempt fails, saying which.
                return new Result(AttemptOutcome.Failed, null, e.Message);
            }
            return await RunExecutorAsync(attempt, dag, plan, spec, executor, sender, log);
        }
        catch (Exception e) when (!stopped.IsCancellationRequested)
        {
            log.WriteLine(SecretMask.Mask($"--- the attempt failed: {e.GetType().Name}: {e.Message} ---"));
            return new Result(AttemptOutcome.Failed, null, e.Message);
        }
        catch (Exception)
        {
            return new Result(AttemptOutcome.Cancelled, null, "cancelled before it started");
        }
    }

    private async Task<Result> RunExecutorAsync(RunningAttempt attempt, DagPlan dag, TaskPlan plan, JsonObject spec, ITaskExecutor executor, ISender sender, AttemptLog log)
    {
        var task = attempt.Task;
        // The attempt's span is the ambient activity while the executor runs (HttpClient and
        // Npgsql spans nest under it); it ends here, before the outcome is recorded, so a
        // handed-off next task does not start inside it.
        using var span = RunTracing.StartAttempt(task.TraceParent, task.DagName, task.RunId, task.TaskId, task.Attempt, plan.Type);
        var result = await RunTracedExecutorAsync(attempt, dag, plan, spec, executor, sender, log, span);
        span.SetTag("scheduler.state", result.Outcome.StateName());
        if (result.Outcome != AttemptOutcome.Success && result.Outcome != AttemptOutcome.Skipped)
            span.SetStatus(ActivityStatusCode.Error, result.Error);
        return result;
    }

    private async Task<Result> RunTracedExecutorAsync(RunningAttempt attempt, DagPlan dag, TaskPlan plan, JsonObject spec, ITaskExecutor executor, ISender sender, AttemptLog log, Activity span)
    {
        var task = attempt.Task;
        var timeout = plan.Timeout ?? _options.DefaultTaskTimeout;
        using var timer = timeout is { } limit ? new CancellationTokenSource(limit, time) : new CancellationTokenSource();
        using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(attempt.Cancel.Token, timer.Token);
        // Flushing outlives the token: what a task prints while it is being killed is kept too.
        using var stopFlushing = new CancellationTokenSource();
        var flushing = log.FlushPeriodicallyAsync(
            (text, ct) => sender.Send(new AppendTaskLog(task.TaskInstanceId, task.Attempt, text), ct).AsTask(), FlushPeriod, time, stopFlushing.Token);
        try
        {
            var context = new TaskExecutionContext
            {
                RunId = task.RunId,
                DagName = task.DagName,
                TaskId = task.TaskId,
                Attempt = task.Attempt,
                LogicalDate = task.LogicalDate,
                IdempotencyKey = task.MapIndex < 0
                    ? $"{task.RunId.ToString(CultureInfo.InvariantCulture)}:{task.TaskId}:{task.Attempt.ToString(CultureInfo.InvariantCulture)}"
                    : $"{task.RunId.ToString(CultureInfo.InvariantCulture)}:{task.TaskId}[{task.MapIndex.ToString(CultureInfo.InvariantCulture)}]:{task.Attempt.ToString(CultureInfo.InvariantCulture)}",
                Task = spec,
                Params = JsonNode.Parse(task.ParamsJson)?.AsObject() ?? [],
                Log = log,
                Connections = connections.For(dag.Team),
                Timeout = plan.Timeout,
                TraceParent = span.Id,
            };
            TaskOutcome outcome;
            if (executor is WaitExecutor wait)
            {
                // A wait that is not over parks: the slot frees now, the scheduler loop wakes it.
                var step = await wait.StepAsync(context, interrupted.Token);
                if (step.Done is null)
                    return new Result(AttemptOutcome.Waiting, null, null, WakeAt: step.WakeAt, Poke: step.Poke);
                outcome = step.Done;
            }
            else
                outcome = await executor.ExecuteAsync(context, interrupted.Token);
            var (output, outputError) = TaskTemplating.StoredOutput(outcome.Output, log.Secrets);
            IReadOnlyList<string>? follow = null;
            if (outputError is null && outcome.Kind == TaskOutcomeKind.Success && Branching.IsBranch(spec))
                (follow, outputError) = Branching.Follow(outcome.Output, dag, plan.Id);
            var result = outcome.Kind switch
            {
                _ when outputError is not null && outcome.Kind != TaskOutcomeKind.Failed => new Result(AttemptOutcome.Failed, outcome.Code, outputError),
                TaskOutcomeKind.Success => new Result(AttemptOutcome.Success, outcome.Code, null, output, follow),
                TaskOutcomeKind.Skipped => new Result(AttemptOutcome.Skipped, outcome.Code, null, output),
                _ => new Result(AttemptOutcome.Failed, outcome.Code, outcome.Error, output),
            };
            return interrupted.IsCancellationRequested && result.Outcome == AttemptOutcome.Failed
                ? Interrupted(attempt, timeout) with { Code = outcome.Code }
                : result;
        }
        // Whatever an executor throws once its token fired (a plugin may wrap the cancellation
        // in an exception of its own), the interruption is the attempt's outcome.
        catch (Exception e) when (interrupted.IsCancellationRequested)
        {
            if (e is not OperationCanceledException)
                log.WriteLine($"--- on interruption the executor threw {e.GetType().Name}: {e.Message} ---");
            return Interrupted(attempt, timeout);
        }
        catch (Exception e)
        {
            log.WriteLine(SecretMask.Mask($"--- the attempt failed: {e.GetType().Name}: {e.Message} ---"));
            return new Result(AttemptOutcome.Failed, null, e.Message);
        }
        finally
        {
            await stopFlushing.CancelAsync();
            await flushing;
        }
    }

    /// <summary>A stop names its reason; a token that fired with none is the timeout's.</summary>
    private static Result Interrupted(RunningAttempt attempt, TimeSpan? timeout) => attempt.StopReason switch
    {
        StopReason.Cancelled => new Result(AttemptOutcome.Cancelled, null, "cancelled"),
        StopReason.Lost => new Result(AttemptOutcome.Cancelled, null, "stopped: the task is no longer this worker's"),
        StopReason.Shutdown => new Result(AttemptOutcome.Cancelled, null, "interrupted by shutdown"),
        _ => new Result(AttemptOutcome.TimedOut, null, $"timed out after {timeout}"),
    };
}
