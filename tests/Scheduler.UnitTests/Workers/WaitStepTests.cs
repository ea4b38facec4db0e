using Scheduler.Abstractions;
using Scheduler.Modules.Workers.Executors;

namespace Scheduler.UnitTests.Workers;

public sealed class WaitStepTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Until_EndsAtOnce_WhenTheInstantPassed()
    {
        var step = WaitExecutor.Until(Now.AddSeconds(-1), Now);
        Assert.Equal(TaskOutcomeKind.Success, step.Done?.Kind);
    }

    [Fact]
    public void Until_Parks_UntilALaterInstant_WithoutPoking()
    {
        var step = WaitExecutor.Until(Now.AddHours(1), Now);
        Assert.Null(step.Done);
        Assert.Equal(Now.AddHours(1), step.WakeAt);
        Assert.False(step.Poke);
    }

    [Fact]
    public void AfterPoke_Parks_UntilTheNextPoke_WhenTheStatusIsNotExpected()
    {
        var step = WaitExecutor.AfterPoke(TaskOutcome.Failed("HTTP 503; expected 200", 503), Now, TimeSpan.FromSeconds(30));
        Assert.Null(step.Done);
        Assert.Equal(Now.AddSeconds(30), step.WakeAt);
        Assert.True(step.Poke);
    }

    [Fact]
    public void AfterPoke_Ends_WithThePokesOutcome_WhenExpected()
    {
        var ok = TaskOutcome.Success(200);
        Assert.Same(ok, WaitExecutor.AfterPoke(ok, Now, TimeSpan.FromSeconds(30)).Done);
    }
}
