using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class RunStartPolicyTests
{
    private static readonly DateTimeOffset Day = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly HashSet<long> NoneWaiting = [];

    private static (long, int, DateTimeOffset) Run(long dag, int max, int day = 0) => (dag, max, Day.AddDays(day));

    [Fact]
    public void Decide_StartsEveryRun_WhenUnderTheCap()
    {
        Assert.Equal([true, true], RunStartPolicy.Decide([Run(1, 5), Run(1, 5, 1)], new Dictionary<long, int> { [1] = 3 }, NoneWaiting));
    }

    [Fact]
    public void Decide_QueuesTheLaterRuns_WhenTheBatchItselfFillsTheCap()
    {
        Assert.Equal([true, true, false], RunStartPolicy.Decide([Run(1, 2), Run(1, 2, 1), Run(1, 2, 2)], new Dictionary<long, int>(), NoneWaiting));
    }

    [Fact]
    public void Decide_StartsTheOldestLogicalDatesOfTheBatch_WhateverTheirOrderInIt()
    {
        Assert.Equal([false, true, true], RunStartPolicy.Decide([Run(1, 2, 9), Run(1, 2, 3), Run(1, 2, 1)], new Dictionary<long, int>(), NoneWaiting));
    }

    [Fact]
    public void Decide_QueuesEveryRun_WhenTheDagIsAlreadyFull()
    {
        Assert.Equal([false, false], RunStartPolicy.Decide([Run(1, 1), Run(1, 1, 1)], new Dictionary<long, int> { [1] = 1 }, NoneWaiting));
    }

    [Fact]
    public void Decide_QueuesBehindRunsAlreadyWaiting_EvenWithRoom()
    {
        // A run ended and the run waiting for that room has not been started yet: a new run
        // must not take the room ahead of it.
        Assert.Equal([false, true], RunStartPolicy.Decide([Run(1, 1), Run(2, 1)], new Dictionary<long, int>(), new HashSet<long> { 1 }));
    }

    [Fact]
    public void Decide_CountsEachDagOnItsOwn_WhenTheBatchMixesDags()
    {
        Assert.Equal([true, true, false, true], RunStartPolicy.Decide([Run(1, 1), Run(2, 1), Run(1, 1, 1), Run(3, 2)], new Dictionary<long, int> { [3] = 1 }, NoneWaiting));
    }

    [Fact]
    public void Decide_LeavesTheCallersCountsAlone_WhenItCountsStarts()
    {
        var running = new Dictionary<long, int> { [1] = 0 };
        RunStartPolicy.Decide([Run(1, 3)], running, NoneWaiting);
        Assert.Equal(0, running[1]);
    }
}
