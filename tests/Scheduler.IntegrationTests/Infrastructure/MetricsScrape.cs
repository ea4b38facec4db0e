using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>One scrape of a Prometheus text exposition: its samples, by name and labels.</summary>
public sealed partial class MetricsScrape
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    private MetricsScrape(IReadOnlyList<Sample> samples, string text)
    {
        Samples = samples;
        Text = text;
    }

    public IReadOnlyList<Sample> Samples { get; }
    public string Text { get; }

    /// <summary>GET of the metrics endpoint, anonymous: must answer 200 in the text format.</summary>
    public static async Task<MetricsScrape> GetAsync(HttpClient anonymous, string path = "/metrics")
    {
        using var response = await anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Scrapes until <paramref name="done"/> holds (gauges refresh every few seconds), 20 s at most.</summary>
    public static async Task<MetricsScrape> WaitForAsync(HttpClient anonymous, Func<MetricsScrape, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var scrape = await GetAsync(anonymous);
            if (done(scrape))
                return scrape;
            if (clock.Elapsed > TimeSpan.FromSeconds(20))
                Assert.Fail("the metrics never showed what was expected:\n" + string.Join('\n', scrape.Text.Split('\n').Where(l => l.StartsWith("scheduler_", StringComparison.Ordinal) && !l.Contains("_bucket"))));
            await Task.Delay(250);
        }
    }

    public static MetricsScrape Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(match.Groups["name"].Value, labels, value));
        }
        return new MetricsScrape(samples, text);
    }

    public IEnumerable<Sample> Series(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    public bool Has(string name) => Samples.Any(s => s.Name == name);

    /// <summary>The sum over every series of the name with these labels (0 when there is none).</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) => Series(name, labels).Sum(s => s.Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
