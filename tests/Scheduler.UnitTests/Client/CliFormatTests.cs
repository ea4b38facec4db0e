using System.Text.Json.Nodes;
using Scheduler.Cli.Commands;

namespace Scheduler.UnitTests.Client;

public sealed class CliFormatTests
{
    [Fact]
    public void FromYaml_TypesPlainScalars_AndKeepsQuotedOnesAsStrings()
    {
        var json = DagFiles.FromYaml("name: d\nretries: 3\nratio: 0.5\ncatchup: false\nowner: ~\ncode: \"007\"\ntags: [a, b]\n");
        var expected = JsonNode.Parse("""{"name":"d","retries":3,"ratio":0.5,"catchup":false,"owner":null,"code":"007","tags":["a","b"]}""");
        Assert.True(JsonNode.DeepEquals(expected, json), json!.ToJsonString());
    }

    [Fact]
    public void Lines_ShowsChangesByPath_AndTasksById()
    {
        var before = JsonNode.Parse("""{"name":"d","cron":"0 9 * * *","description":"x","tasks":[{"id":"a"},{"id":"b","retries":1}]}""");
        var after = JsonNode.Parse("""{"name":"d","cron":"0 10 * * *","tasks":[{"id":"new"},{"id":"a"},{"id":"b","retries":2}]}""");
        Assert.Equal(["~ cron: \"0 9 * * *\" -> \"0 10 * * *\"", "- description", "~ tasks[b].retries: 1 -> 2", "+ tasks[new]: {\"id\":\"new\"}"], JsonDiff.Lines(before, after));
        Assert.Empty(JsonDiff.Lines(before, before!.DeepClone()));
    }
}
