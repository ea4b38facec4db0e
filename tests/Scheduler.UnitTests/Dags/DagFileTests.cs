using System.Text;
using System.Text.Json.Nodes;
using Scheduler.Modules.Dags.Git;

namespace Scheduler.UnitTests.Dags;

public sealed class DagFileTests
{
    [Fact]
    public void Yaml_PlainScalarsGetCoreTypes_QuotedStayStrings()
    {
        var json = JsonNode.Parse(DagFile.YamlToJson("""
            name: etl
            paused: false
            max_active_runs: 3
            ratio: 0.5
            owner: ~
            tag: "123"
            tasks:
              - id: a
                env: {A: "true"}
            """))!;
        Assert.Equal("etl", (string?)json["name"]);
        Assert.False((bool)json["paused"]!);
        Assert.Equal(3L, (long)json["max_active_runs"]!);
        Assert.Equal(0.5, (double)json["ratio"]!);
        Assert.Null(json["owner"]);
        Assert.Equal("123", (string?)json["tag"]);
        Assert.Equal("true", (string?)json["tasks"]![0]!["env"]!["A"]);
    }

    [Fact]
    public void Yaml_DuplicateKeys_AndHugeAliasExpansion_AreErrors()
    {
        var (_, duplicate) = DagFile.Parse("a.yaml", Encoding.UTF8.GetBytes("name: a\nname: b\ntasks: []\n"));
        Assert.Contains("duplicate", duplicate["$"][0], StringComparison.OrdinalIgnoreCase);

        var bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 0; i < 8; i++)
            bomb.Append($"{(char)('b' + i)}: &{(char)('b' + i)} [*{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}]\n");
        var (_, expanded) = DagFile.Parse("bomb.yaml", Encoding.UTF8.GetBytes(bomb.ToString()));
        Assert.Contains("more than", expanded["$"][0]);
    }

    [Fact]
    public void Json_IsReadWithTheApiConventions_AndErrorsAreKeyedByFieldPath()
    {
        var (definition, none) = DagFile.Parse("a.json", Encoding.UTF8.GetBytes("""{"name":"a","tasks":[{"id":"t","retries":2}]}"""));
        Assert.Empty(none);
        Assert.Equal("a", definition!.Name);
        var (_, errors) = DagFile.Parse("a.json", Encoding.UTF8.GetBytes("""{"name":"a","tasks":[{"id":"t","retries":"2"}]}"""));
        Assert.True(errors.ContainsKey("tasks[0].retries"), string.Join(",", errors.Keys));
        var (_, binary) = DagFile.Parse("a.json", [0xff, 0xfe, 0x00]);
        Assert.Contains("UTF-8", binary["$"][0]);
    }

    [Fact]
    public void OnlyJsonAndYamlFilesAreDags()
    {
        Assert.True(DagFile.IsDagFile("dags/a.JSON"));
        Assert.True(DagFile.IsDagFile("dags/b.yml"));
        Assert.True(DagFile.IsDagFile("c.yaml"));
        Assert.False(DagFile.IsDagFile("README.md"));
    }
}
