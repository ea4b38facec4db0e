using Scheduler.Infrastructure.Templates;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class MappedStatesTests
{
    [Theory]
    [InlineData(new[] { "success", "success" }, "success")]
    [InlineData(new[] { "success", "skipped" }, "success")]
    [InlineData(new[] { "skipped", "skipped" }, "skipped")]
    [InlineData(new[] { "success", "failed", "success" }, "failed")]
    [InlineData(new[] { "cancelled", "success" }, "failed")]
    [InlineData(new[] { "success", "running" }, null)]
    [InlineData(new[] { "failed", "up_for_retry" }, null)]
    [InlineData(new[] { "queued" }, null)]
    [InlineData(new string[0], null)]
    public void Summary_IsTheOwnRowsState_WhenEveryInstanceHasFinished(string[] instances, string? expected) =>
        Assert.Equal(expected, MappedStates.Summary(instances));

    private static readonly Dictionary<string, string> States = new() { ["plain"] = "success", ["mapped"] = "running" };

    [Fact]
    public void Upstream_CountsEveryInstanceOfAnExpandedMappedTask()
    {
        var instances = new Dictionary<string, Dictionary<int, string>> { ["mapped"] = new() { [0] = "success", [1] = "failed", [2] = "running" } };
        var upstream = MappedStates.Upstream(["plain", "mapped"], States, instances);
        Assert.Equal(["success", "success", "failed", "running"], upstream);
        // one_failed fires on the failed instance while another still runs; all_success waits for all of them.
        Assert.Equal(TriggerDecision.Run, TriggerRuleEvaluator.Evaluate("one_failed", upstream));
        Assert.Equal(TriggerDecision.Wait, TriggerRuleEvaluator.Evaluate("all_success", upstream));
    }

    [Fact]
    public void Upstream_CountsTheOwnRow_OfAMappedTaskNotExpanded()
    {
        var instances = new Dictionary<string, Dictionary<int, string>> { ["mapped"] = [] };
        Assert.Equal(["running"], MappedStates.Upstream(["mapped"], States, instances));
        Assert.Equal(TriggerDecision.Wait, TriggerRuleEvaluator.Evaluate("all_success", MappedStates.Upstream(["mapped"], States, instances)));
    }

    [Fact]
    public void Upstream_AllSuccessRuns_OnlyWhenEveryInstanceSucceeded()
    {
        var done = new Dictionary<string, Dictionary<int, string>> { ["mapped"] = new() { [0] = "success", [1] = "success" } };
        Assert.Equal(TriggerDecision.Run, TriggerRuleEvaluator.Evaluate("all_success", MappedStates.Upstream(["mapped"], States, done)));
        done["mapped"][1] = "failed";
        Assert.Equal(TriggerDecision.UpstreamFailed, TriggerRuleEvaluator.Evaluate("all_success", MappedStates.Upstream(["mapped"], States, done)));
        Assert.Equal(TriggerDecision.Run, TriggerRuleEvaluator.Evaluate("all_done", MappedStates.Upstream(["mapped"], States, done)));
    }

    [Theory]
    [InlineData("[1, 2, 3]", 3)]
    [InlineData("[]", 0)]
    [InlineData("[{\"a\": 1}, null]", 2)]
    public void Parse_ReturnsTheItems_OfAnArrayWithinTheCap(string rendered, int count) =>
        Assert.Equal(count, MapOver.Parse(rendered, 1024).Items!.Count);

    [Theory]
    [InlineData("[1, 2, 3]", 2, "3 items, more than max_map_length (2)")]
    [InlineData("{\"a\": 1}", 10, "it rendered an object")]
    [InlineData("\"a,b\"", 10, "it rendered a string")]
    [InlineData("a,b", 10, "which is not JSON")]
    [InlineData("", 10, "which is not JSON")]
    public void Parse_RefusesWhatIsNotAnArrayWithinTheCap_SayingWhy(string rendered, int max, string reason)
    {
        var expansion = MapOver.Parse(rendered, max);
        Assert.Null(expansion.Items);
        Assert.Contains(reason, expansion.Error);
    }
}
