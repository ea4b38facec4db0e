using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class TriggerRuleEvaluatorTests
{
    private static TriggerDecision Eval(string rule, params string[] upstream) => TriggerRuleEvaluator.Evaluate(rule, upstream);

    [Theory]
    // all_success
    [InlineData("all_success", TriggerDecision.Run, "success", "success")]
    [InlineData("all_success", TriggerDecision.Wait, "success", "running")]
    [InlineData("all_success", TriggerDecision.UpstreamFailed, "success", "failed")]
    [InlineData("all_success", TriggerDecision.UpstreamFailed, "upstream_failed", "success")]
    [InlineData("all_success", TriggerDecision.Skip, "success", "skipped")]
    [InlineData("all_success", TriggerDecision.UpstreamFailed, "skipped", "failed")]
    [InlineData("all_success", TriggerDecision.Wait, "failed", "up_for_retry")]
    // all_failed
    [InlineData("all_failed", TriggerDecision.Run, "failed", "upstream_failed")]
    [InlineData("all_failed", TriggerDecision.Skip, "failed", "success")]
    [InlineData("all_failed", TriggerDecision.Skip, "failed", "skipped")]
    [InlineData("all_failed", TriggerDecision.Wait, "failed", "queued")]
    // all_done
    [InlineData("all_done", TriggerDecision.Run, "failed", "success", "skipped", "upstream_failed")]
    [InlineData("all_done", TriggerDecision.Wait, "failed", "pending")]
    // one_success: fires on the first success without waiting
    [InlineData("one_success", TriggerDecision.Run, "success", "running")]
    [InlineData("one_success", TriggerDecision.Wait, "failed", "running")]
    [InlineData("one_success", TriggerDecision.UpstreamFailed, "failed", "skipped")]
    [InlineData("one_success", TriggerDecision.Skip, "skipped", "skipped")]
    // one_failed: fires on the first failure without waiting
    [InlineData("one_failed", TriggerDecision.Run, "failed", "running")]
    [InlineData("one_failed", TriggerDecision.Run, "upstream_failed", "pending")]
    [InlineData("one_failed", TriggerDecision.Wait, "success", "running")]
    [InlineData("one_failed", TriggerDecision.Skip, "success", "skipped")]
    // none_failed: skipped upstream is fine
    [InlineData("none_failed", TriggerDecision.Run, "success", "skipped")]
    [InlineData("none_failed", TriggerDecision.Run, "skipped", "skipped")]
    [InlineData("none_failed", TriggerDecision.UpstreamFailed, "success", "failed")]
    [InlineData("none_failed", TriggerDecision.Wait, "success", "queued")]
    // always: no waiting at all
    [InlineData("always", TriggerDecision.Run, "running", "pending")]
    [InlineData("always", TriggerDecision.Run, "failed")]
    public void Evaluate_FollowsAirflowSemantics(string rule, object expected, params string[] upstream)
    {
        Assert.Equal((TriggerDecision)expected, Eval(rule, upstream));
    }

    [Fact]
    public void Evaluate_TreatsCancelledUpstreamAsFailed()
    {
        Assert.Equal(TriggerDecision.UpstreamFailed, Eval("all_success", "cancelled"));
        Assert.Equal(TriggerDecision.Run, Eval("all_failed", "cancelled"));
    }

    [Theory]
    [InlineData("all_success")]
    [InlineData("one_failed")]
    [InlineData("none_failed")]
    public void Evaluate_RunsRootTasks_WhenNoUpstream(string rule)
    {
        Assert.Equal(TriggerDecision.Run, Eval(rule));
    }
}
