using System.Text.Json.Nodes;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class OutcomePolicyTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static TaskPlan Plan(int retryDelaySeconds = 10, bool exponential = false) =>
        new("t", "noop", [], "all_success", 3, TimeSpan.FromSeconds(retryDelaySeconds), exponential, null, null, "default", 0, new JsonObject());

    [Fact]
    public void Decide_Succeeds_WhenOutcomeIsSuccess_EvenWithAttemptsLeft()
    {
        Assert.Equal(new TaskDecision(TaskStates.Success, null, "success"), OutcomePolicy.Decide(AttemptOutcome.Success, 1, 3, Plan(), Now, 0.5));
    }

    [Fact]
    public void Decide_Skips_WhenOutcomeIsSkipped()
    {
        Assert.Equal(new TaskDecision(TaskStates.Skipped, null, "skipped"), OutcomePolicy.Decide(AttemptOutcome.Skipped, 1, 1, Plan(), Now, 0.5));
    }

    [Theory]
    [InlineData(AttemptOutcome.Failed, "failed")]
    [InlineData(AttemptOutcome.TimedOut, "timed_out")]
    [InlineData(AttemptOutcome.Cancelled, "cancelled")]
    public void Decide_RetriesAfterTheDelay_WhenAttemptsRemain(AttemptOutcome outcome, string attemptState)
    {
        Assert.Equal(new TaskDecision(TaskStates.UpForRetry, Now.AddSeconds(10), attemptState), OutcomePolicy.Decide(outcome, 2, 3, Plan(), Now, 0.5));
    }

    [Fact]
    public void Decide_BacksOffExponentially_WhenThePlanSaysSo()
    {
        var decision = OutcomePolicy.Decide(AttemptOutcome.Failed, 3, 5, Plan(10, exponential: true), Now, 1);
        Assert.Equal(Now.AddSeconds(40), decision.NotBefore);
    }

    [Fact]
    public void Decide_Fails_WhenTheLastAttemptFailed()
    {
        Assert.Equal(new TaskDecision(TaskStates.Failed, null, "timed_out"), OutcomePolicy.Decide(AttemptOutcome.TimedOut, 3, 3, Plan(), Now, 0.5));
    }

    [Fact]
    public void Decide_Fails_WhenTheTaskIsNotInThePlan()
    {
        Assert.Equal(TaskStates.Failed, OutcomePolicy.Decide(AttemptOutcome.Failed, 1, 3, null, Now, 0.5).State);
    }

    [Fact]
    public void Lost_FailsTheTaskWithALostAttempt_WhenDeliveriesAreUsedUp()
    {
        Assert.Equal(new TaskDecision(TaskStates.Failed, null, "lost"), OutcomePolicy.Lost);
        Assert.Equal("delivered 3 times and its worker was lost each time (crashed, killed or out of memory); not delivered again", OutcomePolicy.LostError(3));
    }
}
