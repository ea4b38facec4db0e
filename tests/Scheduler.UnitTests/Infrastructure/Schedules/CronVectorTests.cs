using System.Text.Json;
using Scheduler.Infrastructure.Schedules;

namespace Scheduler.UnitTests.Infrastructure.Schedules;

/// <summary>
/// The schedule contract checked against Data/cron_vectors.json (see Data/README.md): ~1,000
/// cases agreed by two independent implementations and a brute-force reference, plus the
/// DST-gap cases.
/// </summary>
public sealed class CronVectorTests
{
    private sealed record Case(string Expr, string Tz, DateTimeOffset From, DateTimeOffset[] Next);

    /// <summary>The copy in Data/, put next to the test assembly by the build.</summary>
    private static string VectorsPath() => Path.Combine(AppContext.BaseDirectory, "Data", "cron_vectors.json");

    private static List<Case> Load(string group)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(VectorsPath()));
        return doc.RootElement.GetProperty(group).EnumerateArray().Select(c => new Case(
            c.GetProperty("expr").GetString()!,
            c.GetProperty("tz").GetString()!,
            DateTimeOffset.Parse(c.GetProperty("from").GetString()!),
            c.GetProperty("next").EnumerateArray().Select(n => DateTimeOffset.Parse(n.GetString()!)).ToArray())).ToList();
    }

    private static List<string> Mismatches(List<Case> cases)
    {
        var failures = new List<string>();
        foreach (var c in cases)
        {
            if (!TimeZones.TryFind(c.Tz, out var zone))
            {
                failures.Add($"{c.Expr} [{c.Tz}]: zone not found");
                continue;
            }
            if (!CronSchedule.TryParse(c.Expr, zone, out var schedule, out var error))
            {
                failures.Add($"{c.Expr} [{c.Tz}]: {error}");
                continue;
            }
            var got = schedule!.Upcoming(c.From, c.Next.Length).ToArray();
            if (!got.SequenceEqual(c.Next))
                failures.Add($"{c.Expr} [{c.Tz}] from {c.From:O}: expected {string.Join(", ", c.Next.Select(n => n.ToString("O")))} got {string.Join(", ", got.Select(n => n.ToString("O")))}");
        }
        return failures;
    }

    [Fact]
    public void Next_MatchesEveryAgreedVector()
    {
        var cases = Load("agreed");
        Assert.True(cases.Count > 1000, $"only {cases.Count} cases loaded");
        var failures = Mismatches(cases);
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases differ:\n{string.Join("\n", failures.Take(30))}");
    }

    [Fact]
    public void Next_FiresOnceAtTheJump_WhenWallTimeFallsInSpringForwardGap()
    {
        var cases = Load("dst_rule");
        Assert.NotEmpty(cases);
        var failures = Mismatches(cases);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
