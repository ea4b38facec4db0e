using System.Text.Encodings.Web;
using System.Xml.Linq;
using Microsoft.AspNetCore.Html;
using Scheduler.Pages.Admin;

namespace Scheduler.UnitTests.Admin;

public sealed class ChartsTests
{
    private static XElement Svg(IHtmlContent content)
    {
        using var writer = new StringWriter();
        content.WriteTo(writer, HtmlEncoder.Default);
        return XElement.Parse(writer.ToString());
    }

    [Fact]
    public void BarChart_ScalesToTheLargestBar_AndSkipsRunsWithoutAValue()
    {
        var svg = Svg(Charts.BarChart("c", "label", [new Charts.Bar(10, "success", "a"), null, new Charts.Bar(5, "failed", "b", "/admin/runs/7")], Charts.Seconds));
        var rects = svg.Descendants("rect").ToList();
        Assert.Equal(2, rects.Count);
        var heights = rects.Select(r => double.Parse(r.Attribute("height")!.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(heights[0] / 2, heights[1], 3);
        Assert.Equal(["s-success", "s-failed"], rects.Select(r => r.Attribute("class")!.Value));
        // The third slot, not the second: a missing value keeps its place in the row.
        Assert.True(double.Parse(rects[1].Attribute("x")!.Value, System.Globalization.CultureInfo.InvariantCulture) > double.Parse(rects[0].Attribute("x")!.Value, System.Globalization.CultureInfo.InvariantCulture) + 30);
        Assert.Equal("/admin/runs/7", rects[1].Parent!.Attribute("href")!.Value);
        Assert.Equal("10s", svg.Elements("text").First().Value);
    }

    [Fact]
    public void BarChart_EncodesTitlesAndStates()
    {
        var svg = Svg(Charts.BarChart("c", "<label>", [new Charts.Bar(1, "x\"><script>", "<b>&")], v => "1"));
        Assert.Equal("<b>&", svg.Descendants("title").Single().Value);
        Assert.Equal("<label>", svg.Attribute("aria-label")!.Value);
        Assert.Empty(svg.Descendants("script"));
    }

    [Fact]
    public void BarChart_WithNothing_IsAnEmptyChart()
    {
        var svg = Svg(Charts.BarChart("c", "l", [], Charts.Seconds));
        Assert.Empty(svg.Descendants("rect"));
    }

    [Fact]
    public void Sparkline_PlotsEveryPoint_AndLabelsTheLast()
    {
        var svg = Svg(Charts.Sparkline("s", "throughput", [0, 5, 10, 2], v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(4, svg.Element("polyline")!.Attribute("points")!.Value.Split(' ').Length);
        Assert.Equal("2", svg.Element("text")!.Value);
        Assert.Contains("peak 10", svg.Attribute("aria-label")!.Value);
    }
}
