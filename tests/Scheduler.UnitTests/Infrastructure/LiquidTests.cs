using System.Text.Json.Nodes;
using Fluid.Values;
using Scheduler.Infrastructure.Templates;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class LiquidTests
{
    private static readonly Dictionary<string, FluidValue> Variables = new()
    {
        ["ds"] = new StringValue("2026-12-02"),
        ["logical_date"] = new StringValue("2026-12-02T06:30:00Z"),
        ["run_id"] = NumberValue.Create(42),
        ["params"] = Liquid.ToValue(JsonNode.Parse("""{"regions": ["eu", "us"], "limit": 5, "nested": {"on": true}}"""), "params"),
        ["outputs"] = Liquid.ToValue(JsonNode.Parse("""{"list": {"files": ["a.csv", "b.csv"], "count": 2}}"""), "outputs"),
    };

    [Theory]
    [InlineData("day {{ ds }}", "day 2026-12-02")]
    [InlineData("{{ run_id }}", "42")]
    [InlineData("{{ params.limit }}", "5")]
    [InlineData("{{ params.regions | json }}", "[\"eu\",\"us\"]")]
    [InlineData("{{ params.nested | json }}", "{\"on\":true}")]
    [InlineData("{{ outputs.list.files[1] }}", "b.csv")]
    [InlineData("{{ outputs.list.count | plus: 1 }}", "3")]
    [InlineData("{{ outputs.list.files | join: ',' }}", "a.csv,b.csv")]
    [InlineData("{{ ds | add_days: -1 }}", "2026-12-01")]
    [InlineData("{{ ds | add_days: 30 }}", "2027-01-01")]
    [InlineData("{{ logical_date | add_hours: 2 }}", "2026-12-02T08:30:00Z")]
    [InlineData("{{ logical_date | add_days: 1 | date: '%Y%m%d' }}", "20261203")]
    [InlineData("{{ logical_date | date: '%Y/%m/%d %H:%M' }}", "2026/12/02 06:30")]
    [InlineData("{% for r in params.regions %}[{{ r }}]{% endfor %}", "[eu][us]")]
    public void Render_GivesTheText_ForKnownVariablesAndFilters(string template, string expected)
    {
        Assert.Equal(expected, Liquid.Render(template, Variables));
    }

    [Theory]
    [InlineData("{{ nope }}", "nope")]
    [InlineData("{{ params.missing }}", "'params.missing' is not defined")]
    [InlineData("{{ outputs.other.files }}", "'outputs.other' is not defined")]
    [InlineData("{{ params.nested.off }}", "'params.nested.off' is not defined")]
    public void Render_Throws_WhenAVariableIsUndefined(string template, string named)
    {
        var e = Assert.Throws<TemplateException>(() => Liquid.Render(template, Variables));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Throws_WhenAFilterIsUnknown()
    {
        Assert.Throws<TemplateException>(() => Liquid.Render("{{ ds | no_such_filter }}", Variables));
    }

    [Theory]
    [InlineData("{{ ds ")]
    [InlineData("{% if x %}")]
    [InlineData("{{ ds | }}")]
    public void TryParse_Fails_ForBrokenMarkup(string template)
    {
        Assert.False(Liquid.TryParse(template, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TemplateFields_FindsOnlyTheContractsFields()
    {
        var spec = JsonNode.Parse("""
            {"id": "{{ x }}", "type": "http", "pool": "{{ p }}", "uri": "http://h/{{ ds }}",
             "headers": {"X-Day": "{{ ds }}", "Plain": "text"}, "body": {"items": ["{{ a }}", 1], "k": "{{ b }}"}}
            """)!.AsObject();
        var found = TemplateFields.Find(spec, "http").Select(f => f.Path).Order().ToList();
        Assert.Equal(["body.items[0]", "body.k", "headers.X-Day", "uri"], found);
    }

    [Fact]
    public void TemplateFields_RendersPluginFieldsButNotEngineFields()
    {
        var spec = JsonNode.Parse("""{"id": "t", "type": "custom", "depends_on": ["{{ a }}"], "target": "{{ ds }}"}""")!.AsObject();
        TemplateFields.Visit(spec, "custom", (_, text) => Liquid.Render(text, Variables));
        Assert.Equal("2026-12-02", spec["target"]!.GetValue<string>());
        Assert.Equal("{{ a }}", spec["depends_on"]![0]!.GetValue<string>());
    }
}
