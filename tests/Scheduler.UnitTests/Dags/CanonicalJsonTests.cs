using System.Text.Json;
using Scheduler.Infrastructure.Json;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.UnitTests.Dags;

public sealed class CanonicalJsonTests
{
    private static PreparedDefinition Prepare(string json) =>
        PreparedDefinition.From(JsonSerializer.Deserialize<DagDefinition>(json, JsonConventions.Options)!);

    [Fact]
    public void Hash_IsSame_WhenOnlyKeyOrderSpacingOrDurationSpellingDiffer()
    {
        var a = Prepare("""{"name":"d","params":{"x":1,"y":{"b":2,"a":1}},"tasks":[{"id":"t","timeout":90,"env":{"B":"2","A":"1"},"type":"shell","command":"true"}]}""");
        var b = Prepare("""{ "tasks": [ {"command":"true","type":"shell","env":{"A":"1","B":"2"},"timeout":"PT1M30S","id":"t"} ], "params": {"y":{"a":1,"b":2},"x":1}, "name": "d" }""");
        Assert.Equal(a.Canonical, b.Canonical);
        Assert.Equal(a.Hash, b.Hash);
    }

    [Fact]
    public void Hash_Differs_WhenTaskOrderDiffers()
    {
        Assert.NotEqual(Prepare("""{"name":"d","tasks":[{"id":"a"},{"id":"b"}]}""").Hash, Prepare("""{"name":"d","tasks":[{"id":"b"},{"id":"a"}]}""").Hash);
    }

    [Fact]
    public void Hash_IgnoresPaused_WhichIsStateNotDefinition()
    {
        Assert.Equal(Prepare("""{"name":"d","paused":true,"tasks":[{"id":"a"}]}""").Hash, Prepare("""{"name":"d","tasks":[{"id":"a"}]}""").Hash);
    }

    [Fact]
    public void Canonical_RoundTripsPluginFields()
    {
        var prepared = Prepare("""{"name":"d","tasks":[{"id":"a","type":"spark","jar":"x.jar","conf":{"k":"v"}}]}""");
        Assert.Contains("\"jar\":\"x.jar\"", prepared.Canonical);
        var back = CanonicalJson.Deserialize(prepared.Canonical);
        Assert.Equal("x.jar", back.Tasks![0].ExtraFields!["jar"].GetString());
    }
}
