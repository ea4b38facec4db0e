using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

public sealed class TriggerRuleRunTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task EveryTriggerRule_DecidesFromRealUpstreamOutcomes()
    {
        // ok succeeds, bad fails; each rule below sees one success and one failure upstream.
        string Rule(string id, string rule) => $$"""{"id":"{{id}}","trigger_rule":"{{rule}}","depends_on":["ok","bad"]}""";
        var json = $$"""
            {"name":"rules","tasks":[
              {"id":"ok"},
              {"id":"bad","type":"shell","command":"exit 1"},
              {{Rule("all_success", "all_success")}},
              {{Rule("all_failed", "all_failed")}},
              {{Rule("all_done", "all_done")}},
              {{Rule("one_success", "one_success")}},
              {{Rule("one_failed", "one_failed")}},
              {{Rule("none_failed", "none_failed")}},
              {{Rule("always", "always")}},
              {"id":"after_upstream_failed","depends_on":["all_success"]},
              {"id":"only_failures","trigger_rule":"all_failed","depends_on":["bad"]}
            ]}
            """;
        await Admin.PostJsonAsync("dags", json).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("rules"));
        Assert.Equal("failed", run.GetProperty("state").GetString());
        Assert.Equal("upstream_failed", RunHelpers.State(run, "all_success"));
        Assert.Equal("skipped", RunHelpers.State(run, "all_failed"));
        Assert.Equal("success", RunHelpers.State(run, "all_done"));
        Assert.Equal("success", RunHelpers.State(run, "one_success"));
        Assert.Equal("success", RunHelpers.State(run, "one_failed"));
        Assert.Equal("upstream_failed", RunHelpers.State(run, "none_failed"));
        Assert.Equal("success", RunHelpers.State(run, "always"));
        Assert.Equal("upstream_failed", RunHelpers.State(run, "after_upstream_failed"));
        Assert.Equal("success", RunHelpers.State(run, "only_failures"));
    }

    [Fact]
    public async Task NoneFailed_RunsAfterSkippedBranch()
    {
        await Admin.PostJsonAsync("dags", """{"name":"branch","tasks":[{"id":"choose","type":"shell","command":"exit 99"},{"id":"other"},{"id":"join","trigger_rule":"none_failed","depends_on":["choose","other"]}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("branch"));
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal("success", RunHelpers.State(run, "join"));
    }
}
