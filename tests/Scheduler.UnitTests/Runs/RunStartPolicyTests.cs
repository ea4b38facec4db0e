using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class RunStartPolicyTests
{
    [Fact]
    public void Decide_StartsEveryRun_WhenUnderTheCap()
    {
        Assert.Equal([true, true], RunStartPolicy.Decide([(1, 5), (1, 5)], new Dictionary<long, int> { [1] = 3 }));
    }

    [Fact]
    public void Decide_QueuesTheLaterRuns_WhenTheBatchItselfFillsTheCap()
    {
        Assert.Equal([true, true, false], RunStartPolicy.Decide([(1, 2), (1, 2), (1, 2)], new Dictionary<long, int>()));
    }

    [Fact]
    public void Decide_QueuesEveryRun_WhenTheDagIsAlreadyFull()
    {
        Assert.Equal([false, false], RunStartPolicy.Decide([(1, 1), (1, 1)], new Dictionary<long, int> { [1] = 1 }));
    }

    [Fact]
    public void Decide_CountsEachDagOnItsOwn_WhenTheBatchMixesDags()
    {
        Assert.Equal([true, true, false, true], RunStartPolicy.Decide([(1, 1), (2, 1), (1, 1), (3, 2)], new Dictionary<long, int> { [3] = 1 }));
    }

    [Fact]
    public void Decide_LeavesTheCallersCountsAlone_WhenItCountsStarts()
    {
        var running = new Dictionary<long, int> { [1] = 0 };
        RunStartPolicy.Decide([(1, 3)], running);
        Assert.Equal(0, running[1]);
    }
}
