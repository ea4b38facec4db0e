using System.Text.Json.Nodes;
using Scheduler.Client.Builder;

namespace Scheduler.UnitTests.Client;

public sealed class DagBuilderTests
{
    [Fact]
    public void ToJson_WritesTheApisFields_WhenBuiltFluently()
    {
        var json = Dag.Named("daily").Cron("0 9 * * *")
            .Task("fetch", t => t.Http(new Uri("http://127.0.0.1:9/data")))
            .Task("transform", t => t.DependsOn("fetch").Retries(2, TimeSpan.FromSeconds(30)).Timeout(TimeSpan.FromMinutes(5)))
            .ToJson();
        var expected = JsonNode.Parse("""
            {"name":"daily","cron":"0 9 * * *","tasks":[
              {"id":"fetch","type":"http","uri":"http://127.0.0.1:9/data","method":"GET"},
              {"id":"transform","depends_on":["fetch"],"retries":2,"retry_delay":"PT30S","timeout":"PT5M"}]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, json), json.ToJsonString());
    }

    [Fact]
    public void ToJson_ReturnsACopy_WhenChangedAfterwards()
    {
        var builder = Dag.Named("d").Task("a");
        builder.ToJson()["name"] = "changed";
        Assert.Equal("d", builder.ToJson()["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/no")]
    public void Named_Throws_WhenTheNameIsInvalid(string name) =>
        Assert.Throws<ArgumentException>(() => Dag.Named(name));

    [Theory]
    [InlineData("0 9 * *")]
    [InlineData("61 * * * *")]
    [InlineData("@sometimes")]
    public void Cron_Throws_WhenTheExpressionIsInvalid(string cron) =>
        Assert.Throws<ArgumentException>(() => Dag.Named("d").Cron(cron));

    [Theory]
    [InlineData("*/5 * * * *")]
    [InlineData("30 */5 * * * *")]
    [InlineData("@daily")]
    [InlineData("0 0 ? * MON")]
    public void Cron_Accepts_WhatTheServerAccepts(string cron) =>
        Assert.Equal(cron, Dag.Named("d").Cron(cron).Task("a").ToJson()["cron"]!.GetValue<string>());

    [Fact]
    public void Task_Throws_WhenTheIdIsUsedTwice() =>
        Assert.Throws<ArgumentException>(() => Dag.Named("d").Task("a").Task("a"));

    [Fact]
    public void DependsOn_Throws_WhenTheUpstreamIsUnknown() =>
        Assert.Contains("ghost", Assert.Throws<ArgumentException>(() => Dag.Named("d").Task("a", t => t.DependsOn("ghost"))).Message);

    [Fact]
    public void DependsOn_Throws_WhenATaskDependsOnItself() =>
        Assert.Contains("cycle", Assert.Throws<ArgumentException>(() => Dag.Named("d").Task("a", t => t.DependsOn("a"))).Message);

    /// <summary>A later task is not declared yet when an earlier one is configured, so no cycle can be built.</summary>
    [Fact]
    public void DependsOn_Throws_WhenTheUpstreamIsDeclaredLater() =>
        Assert.Throws<ArgumentException>(() => Dag.Named("d").Task("a", t => t.DependsOn("b")).Task("b", t => t.DependsOn("a")));

    [Fact]
    public void Builder_Throws_OnContradictions()
    {
        Assert.Throws<InvalidOperationException>(() => Dag.Named("d").Cron("@daily").Interval(TimeSpan.FromHours(1)));
        Assert.Throws<InvalidOperationException>(() => Dag.Named("d").Task("a", t => t.Shell("x").Http(new Uri("http://127.0.0.1/"))));
        Assert.Throws<InvalidOperationException>(() => Dag.Named("d").ToJson());
        Assert.Throws<ArgumentException>(() => Dag.Named("d").Timezone("Mars/Olympus"));
        Assert.Throws<ArgumentException>(() => Dag.Named("d").Task("a", t => t.TriggerRule("sometimes")));
        Assert.Throws<ArgumentException>(() => Dag.Named("d").Task("a", t => t.Http(new Uri("ftp://127.0.0.1/x"))));
    }
}
