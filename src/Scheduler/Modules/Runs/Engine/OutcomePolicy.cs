using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Runs.Engine;

/// <summary>What an attempt's end means for its task: the task's next state, when it may run again, and the attempt row's state.</summary>
internal sealed record TaskDecision(string State, DateTimeOffset? NotBefore, string AttemptState);

/// <summary>The retry policy as a pure decision; the engine only writes what this says.</summary>
internal static class OutcomePolicy
{
    /// <summary>
    /// Success and skip are final; waiting parks the task until <paramref name="wakeAt"/>. Any other outcome retries while attempts remain and the
    /// task is still in the plan (a task without a plan cannot say how to retry), after the
    /// backoff from <paramref name="now"/>; otherwise the task fails.
    /// </summary>
    /// <param name="jitter">A number in [0, 1) for the backoff's jitter.</param>
    public static TaskDecision Decide(AttemptOutcome outcome, int attempt, int maxAttempts, TaskPlan? plan, DateTimeOffset now, double jitter, DateTimeOffset? wakeAt = null)
    {
        var attemptState = outcome.StateName();
        return outcome switch
        {
            AttemptOutcome.Success => new(TaskStates.Success, null, attemptState),
            AttemptOutcome.Skipped => new(TaskStates.Skipped, null, attemptState),
            AttemptOutcome.Waiting => new(TaskStates.Waiting, wakeAt, attemptState),
            _ when attempt < maxAttempts && plan is not null => new(TaskStates.UpForRetry,
                now + RetryBackoff.Delay(plan.RetryDelay, plan.ExponentialBackoff, plan.MaxRetryDelay, attempt, jitter), attemptState),
            _ => new(TaskStates.Failed, null, attemptState),
        };
    }

    /// <summary>
    /// A task whose every delivery lost its worker fails at once, retries or not: retrying
    /// would only kill more workers.
    /// </summary>
    public static readonly TaskDecision Lost = new(TaskStates.Failed, null, "lost");

    public static string LostError(int deliveries) =>
        $"delivered {deliveries} times and its worker was lost each time (crashed, killed or out of memory); not delivered again";
}
