using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class ConstrainedSlotsTests
{
    private static ConstrainedCandidate C(long id, string pool = "default", long dag = 1, int? maxActive = null) => new(id, pool, dag, maxActive);

    private static readonly Dictionary<long, int> NoneRunning = [];

    [Fact]
    public void Choose_FillsThePoolsFreeSlots_WhenMoreAreQueued()
    {
        var chosen = ConstrainedSlots.Choose([C(1, "p"), C(2, "p"), C(3, "p")], new Dictionary<string, int?> { ["p"] = 2 }, NoneRunning, 10);
        Assert.Equal([1L, 2L], chosen);
    }

    [Fact]
    public void Choose_SkipsAFullPool_WhenALaterTaskIsInAnotherPool()
    {
        var chosen = ConstrainedSlots.Choose([C(1, "full"), C(2, "open")], new Dictionary<string, int?> { ["full"] = 0, ["open"] = 1 }, NoneRunning, 10);
        Assert.Equal([2L], chosen);
    }

    [Fact]
    public void Choose_TakesAnything_WhenThePoolIsUnknownOrUncapped()
    {
        var chosen = ConstrainedSlots.Choose([C(1, "typo"), C(2, "typo"), C(3, "default")], new Dictionary<string, int?> { ["default"] = null }, NoneRunning, 10);
        Assert.Equal([1L, 2L, 3L], chosen);
    }

    [Fact]
    public void Choose_HoldsMaxActiveTasksPerDag_WhenTasksOfTheDagRunAlready()
    {
        var chosen = ConstrainedSlots.Choose([C(1, dag: 7, maxActive: 2), C(2, dag: 7, maxActive: 2), C(3, dag: 8, maxActive: 2)], new Dictionary<string, int?>(),
            new Dictionary<long, int> { [7] = 1 }, 10);
        Assert.Equal([1L, 3L], chosen);
    }

    [Fact]
    public void Choose_StopsAtMax_WhenSlotsRemain()
    {
        Assert.Equal([1L], ConstrainedSlots.Choose([C(1), C(2)], new Dictionary<string, int?>(), NoneRunning, 1));
    }
}
