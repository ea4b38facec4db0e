using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;

namespace Scheduler.Pages.Admin;

/// <summary>
/// Server-rendered SVG charts: no script, no library, readable by screen readers (each chart
/// is an image with a label, each mark has a title) and coloured by the state classes of the
/// layout's stylesheet.
/// </summary>
internal static class Charts
{
    /// <summary>One bar of a bar chart: its value, the state that colours it, its tooltip, where it links.</summary>
    public sealed record Bar(double Value, string State, string Title, string? Href = null);

    private const int BarWidth = 14;
    private const int Gap = 4;
    private const int Height = 90;
    private const int AxisWidth = 64;

    /// <summary>
    /// Bars left to right, scaled to the largest value (labelled on the axis with
    /// <paramref name="format"/>); a bar with no value (a run still going) is a short grey stub.
    /// </summary>
    public static IHtmlContent BarChart(string testId, string label, IReadOnlyList<Bar?> bars, Func<double, string> format)
    {
        var max = bars.Where(b => b is not null).Select(b => b!.Value).DefaultIfEmpty(0).Max();
        var width = AxisWidth + Math.Max(1, bars.Count) * (BarWidth + Gap);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg role="img" class="chart" data-testid="{testId}" aria-label="{Encode(label)}" width="{width}" height="{Height + 20}" viewBox="0 0 {width} {Height + 20}">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="0" y="12">{Encode(format(max))}</text><text x="0" y="{Height}">0</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="axis" x1="{AxisWidth - 4}" y1="4" x2="{AxisWidth - 4}" y2="{Height}"/>""");
        for (var i = 0; i < bars.Count; i++)
        {
            var x = AxisWidth + i * (BarWidth + Gap);
            if (bars[i] is not { } bar)
                continue;
            var h = max > 0 ? Math.Max(1, bar.Value / max * (Height - 8)) : 1;
            var rect = string.Create(CultureInfo.InvariantCulture,
                $"""<rect class="s-{Encode(bar.State)}" x="{x}" y="{Ui.N(Height - h)}" width="{BarWidth}" height="{Ui.N(h)}" data-value="{Ui.N(bar.Value)}"><title>{Encode(bar.Title)}</title></rect>""");
            svg.Append(bar.Href is null ? rect : $"""<a href="{Encode(bar.Href)}">{rect}</a>""");
        }
        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    /// <summary>A line over evenly spaced points, for a trend at a glance; the last value labelled.</summary>
    public static IHtmlContent Sparkline(string testId, string label, IReadOnlyList<double> points, Func<double, string> format, int width = 240, int height = 40)
    {
        var max = points.DefaultIfEmpty(0).Max();
        var step = points.Count > 1 ? (double)width / (points.Count - 1) : 0;
        var coordinates = string.Join(' ', points.Select((p, i) => string.Create(CultureInfo.InvariantCulture,
            $"{Ui.N(i * step)},{Ui.N(height - (max > 0 ? p / max * (height - 4) : 0) - 2)}")));
        var last = points.Count > 0 ? format(points[^1]) : "";
        return new HtmlString(string.Create(CultureInfo.InvariantCulture,
            $"""<svg role="img" class="chart spark" data-testid="{testId}" aria-label="{Encode(label)}: now {Encode(last)}, peak {Encode(format(max))}" width="{width + 70}" height="{height}" viewBox="0 0 {width + 70} {height}"><polyline points="{coordinates}"/><text x="{width + 6}" y="{height / 2 + 4}">{Encode(last)}</text></svg>"""));
    }

    public static string Seconds(double seconds) => Ui.Duration(TimeSpan.FromSeconds(seconds));

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
