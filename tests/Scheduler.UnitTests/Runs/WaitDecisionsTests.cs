using System.Text.Json.Nodes;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class WaitDecisionsTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnWake_FinishesOrPokes_WhenTheWakeUpIsDue(bool poke) =>
        Assert.Equal(poke ? WakeAction.Poke : WakeAction.Finish, WaitDecisions.OnWake(Now, Now.AddSeconds(-1), Now.AddMinutes(5), poke));

    [Fact]
    public void OnWake_Sleeps_WhenTheWakeUpIsLater() =>
        Assert.Equal(WakeAction.Sleep, WaitDecisions.OnWake(Now, Now.AddSeconds(1), null, poke: false));

    [Fact]
    public void OnWake_Sleeps_ForASignalWaitWithoutTimeout() =>
        Assert.Equal(WakeAction.Sleep, WaitDecisions.OnWake(Now, null, null, poke: false));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnWake_TimesOut_WhenTheDeadlinePassed_EvenIfTheWaitIsAlsoOver(bool poke) =>
        Assert.Equal(WakeAction.TimeOut, WaitDecisions.OnWake(Now, Now.AddSeconds(-5), Now, poke));

    [Fact]
    public void OnWake_TimesOut_ASignalWait_AtItsDeadline() =>
        Assert.Equal(WakeAction.TimeOut, WaitDecisions.OnWake(Now, Now, Now.AddTicks(-1), poke: false));

    [Fact]
    public void Decide_ParksTheTask_UntilTheWakeUp_WhenTheOutcomeIsWaiting()
    {
        var plan = new TaskPlan("w", "wait", [], "all_success", 1, TimeSpan.Zero, false, null, null, "default", 0, new JsonObject());
        Assert.Equal(new TaskDecision(TaskStates.Waiting, Now.AddMinutes(1), "waiting"),
            OutcomePolicy.Decide(AttemptOutcome.Waiting, 1, 1, plan, Now, 0.5, Now.AddMinutes(1)));
    }

    [Fact]
    public void Waiting_IsNeitherFinalNorUnsuccessful()
    {
        Assert.False(TaskStates.IsFinal(TaskStates.Waiting));
        Assert.False(TaskStates.IsUnsuccessful(TaskStates.Waiting));
        Assert.Contains(TaskStates.Waiting, TaskStates.All);
    }
}
