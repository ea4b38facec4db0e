using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.UnitTests.Dags;

public sealed class DagGraphTests
{
    private static Dictionary<string, IReadOnlyList<string>> Graph(params (string Id, string[] Deps)[] tasks) =>
        tasks.ToDictionary(t => t.Id, t => (IReadOnlyList<string>)t.Deps);

    [Fact]
    public void FindCycle_ReturnsNull_WhenAcyclic()
    {
        var diamond = Graph(("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"]));
        Assert.Null(DagGraph.FindCycle(diamond));
    }

    [Fact]
    public void FindCycle_ReturnsPathInExecutionOrder_StartingAtFirstDeclaredTask()
    {
        var graph = Graph(("x", []), ("a", ["c"]), ("b", ["a"]), ("c", ["b"]));
        Assert.Equal(["a", "b", "c", "a"], DagGraph.FindCycle(graph));
    }

    [Fact]
    public void FindCycle_FindsTwoTaskCycle_BehindAcyclicPart()
    {
        var graph = Graph(("root", []), ("p", ["root", "q"]), ("q", ["p"]), ("leaf", ["q"]));
        Assert.Equal(["p", "q", "p"], DagGraph.FindCycle(graph));
    }

    [Fact]
    public void FindCycle_HandlesLongChainsWithoutRecursion()
    {
        var graph = new Dictionary<string, IReadOnlyList<string>>();
        for (var i = 0; i < 200_000; i++)
            graph[$"t{i}"] = i == 0 ? [] : [$"t{i - 1}"];
        Assert.Null(DagGraph.FindCycle(graph));
        graph["t0"] = ["t199999"];
        var cycle = DagGraph.FindCycle(graph)!;
        Assert.Equal(200_001, cycle.Count);
        Assert.Equal("t0", cycle[0]);
        Assert.Equal("t1", cycle[1]);
    }

    [Fact]
    public void FindCycle_IgnoresUnknownDependencies()
    {
        Assert.Null(DagGraph.FindCycle(Graph(("a", ["missing"]))));
    }
}
