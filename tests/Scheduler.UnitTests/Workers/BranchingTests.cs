using System.Text.Json.Nodes;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Workers.Templates;

namespace Scheduler.UnitTests.Workers;

public sealed class BranchingTests
{
    private static TaskPlan Task(string id, params string[] deps) =>
        new(id, "noop", deps, "all_success", 1, TimeSpan.Zero, false, null, null, "default", 0, []);

    private static readonly DagPlan Dag = new(1, "d", 1, [], 16, null,
        [Task("decide"), Task("a", "decide"), Task("b", "decide"), Task("c", "a")]);

    [Fact]
    public void Follow_ReturnsTheList_WhenItNamesDirectDownstreamTasks()
    {
        var (follow, error) = Branching.Follow(JsonNode.Parse("""{"follow": ["b"]}"""), Dag, "decide");
        Assert.Null(error);
        Assert.Equal(["b"], follow);
        Assert.Empty(Branching.Follow(JsonNode.Parse("""{"follow": []}"""), Dag, "decide").Follow!);
    }

    [Theory]
    [InlineData("""{"follow": ["c"]}""", "'c', which is not a direct downstream task of 'decide' (a, b)")]
    [InlineData("""{"follow": ["nope"]}""", "'nope', which is not a direct downstream task")]
    [InlineData("""{"follow": [1]}""", "must list task ids")]
    [InlineData("""{"go": ["a"]}""", "must be {\"follow\"")]
    [InlineData("""["a"]""", "must be {\"follow\"")]
    public void Follow_Fails_ForAnythingElse(string output, string message)
    {
        var (follow, error) = Branching.Follow(JsonNode.Parse(output), Dag, "decide");
        Assert.Null(follow);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void IsBranch_ReadsTheSpecsFlag()
    {
        Assert.True(Branching.IsBranch(new JsonObject { ["branch"] = true }));
        Assert.False(Branching.IsBranch(new JsonObject { ["branch"] = false }));
        Assert.False(Branching.IsBranch([]));
    }
}
