using Scheduler.Pages.Admin;

namespace Scheduler.UnitTests.Admin;

public sealed class AdminViewLogicTests
{
    [Theory]
    [InlineData("0 9 * * *", "every day at 09:00 (UTC)")]
    [InlineData("30 6 * * 1-5", "every weekday at 06:30 (UTC)")]
    [InlineData("*/15 * * * *", "every 15 minutes (UTC)")]
    [InlineData("0 * * * *", "every hour, on the hour (UTC)")]
    [InlineData("5 */2 * * *", "every 2 hours at minute 5 (UTC)")]
    [InlineData("0 8 1 * *", "on day 1 of every month at 08:00 (UTC)")]
    [InlineData("0 8 * * 0", "every Sunday at 08:00 (UTC)")]
    [InlineData("0 8,20 * * *", "every day at 08:00, 20:00 (UTC)")]
    [InlineData("@daily", "every day at 00:00 (UTC)")]
    [InlineData("0 0 12 L * ?", "cron 0 0 12 L * ? (UTC)")]
    public void Describe_SaysTheScheduleInWords_ForCommonCrons(string cron, string expected) =>
        Assert.Equal(expected, ScheduleText.Describe(cron, null, "UTC"));

    [Fact]
    public void Describe_SaysIntervalsAndManual_WhenNoCron()
    {
        Assert.Equal("every 15 minutes (Europe/Paris)", ScheduleText.Describe(null, "PT15M", "Europe/Paris"));
        Assert.Equal("every day (UTC)", ScheduleText.Describe(null, "P1D", "UTC"));
        Assert.Equal("manual only (no schedule)", ScheduleText.Describe(null, null, "UTC"));
    }

    [Fact]
    public void Build_LayersTasksByLongestPath_WhenDiamond()
    {
        var layout = GraphLayout.Build([("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"]), ("e", ["a", "d"])]);
        var layer = layout.Nodes.ToDictionary(n => n.Id, n => n.Layer);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 0, ["b"] = 1, ["c"] = 1, ["d"] = 2, ["e"] = 3 }, layer);
        Assert.Equal(6, layout.Edges.Count);
        Assert.All(layout.Edges, e => Assert.True(e.To.X > e.From.X));
        Assert.Equal(["a", "b", "c", "d", "e"], layout.Order);
    }

    [Fact]
    public void Build_IsLinear_WhenLongChain()
    {
        var tasks = Enumerable.Range(0, 5_000).Select(i => ($"t{i}", (IReadOnlyList<string>)(i == 0 ? [] : [$"t{i - 1}"]))).ToList();
        var layout = GraphLayout.Build(tasks);
        Assert.Equal(4_999, layout.Nodes.Single(n => n.Id == "t4999").Layer);
    }

    [Fact]
    public void Compare_ShowsRemovedThenAdded_WhenALineChanged()
    {
        var diff = TextDiff.Compare("{\n  \"a\": 1,\n  \"b\": 2\n}", "{\n  \"a\": 1,\n  \"b\": 3,\n  \"c\": 4\n}");
        Assert.Equal(
            [(TextDiff.Op.Same, "{"), (TextDiff.Op.Same, "  \"a\": 1,"), (TextDiff.Op.Removed, "  \"b\": 2"), (TextDiff.Op.Added, "  \"b\": 3,"), (TextDiff.Op.Added, "  \"c\": 4"), (TextDiff.Op.Same, "}")],
            diff.Select(l => (l.Op, l.Text)).ToArray());
    }
}
