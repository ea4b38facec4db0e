using System.Diagnostics;
using System.Text.Json;
using Scheduler.Infrastructure.Json;
using Scheduler.Modules.Dags;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.UnitTests.Dags;

public sealed class DueRunsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2027-06-15T12:00:30Z");

    private static IReadOnlyList<DateTimeOffset> Due(string json, string dueAt)
    {
        var definition = JsonSerializer.Deserialize<DagDefinition>(json, JsonConventions.Options)!;
        return DagPlans.DueRuns(1, "d", 1, DateTimeOffset.Parse(dueAt), definition, PreparedDefinition.From(definition).Rules!, Now).LogicalDates;
    }

    [Fact]
    public void DueRuns_TakesOnlyTheLatestMissed_WithoutCatchup()
    {
        Assert.Equal([DateTimeOffset.Parse("2027-06-15T12:00:00Z")], Due("""{"name":"d","cron":"* * * * *","tasks":[{"id":"a"}]}""", "2027-06-15T09:00:00Z"));
    }

    [Fact]
    public void DueRuns_TakesTheNewestMissed_BoundedByMaxCatchupRuns()
    {
        Assert.Equal(["2027-06-13T00:00:00Z", "2027-06-14T00:00:00Z", "2027-06-15T00:00:00Z"],
            Due("""{"name":"d","cron":"@daily","catchup":true,"max_catchup_runs":3,"tasks":[{"id":"a"}]}""", "2027-01-01T00:00:00Z").Select(d => d.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")));
        Assert.Equal(2, Due("""{"name":"d","cron":"@daily","catchup":true,"tasks":[{"id":"a"}]}""", "2027-06-14T00:00:00Z").Count);
    }

    [Fact]
    public void DueRuns_IsCheap_ForAPerSecondScheduleMissedForYears()
    {
        var clock = Stopwatch.StartNew();
        var dates = Due("""{"name":"d","cron":"* * * * * *","tasks":[{"id":"a"}]}""", "2024-01-01T00:00:00Z");
        Assert.Equal([DateTimeOffset.Parse("2027-06-15T12:00:30Z")], dates);
        var catchup = Due("""{"name":"d","cron":"* * * * * *","catchup":true,"max_catchup_runs":5,"tasks":[{"id":"a"}]}""", "2024-01-01T00:00:00Z");
        Assert.Equal(5, catchup.Count);
        Assert.Equal(Now, catchup[^1]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void DueRuns_FindsARareScheduleFarBack()
    {
        Assert.Equal([DateTimeOffset.Parse("2027-01-01T00:00:00Z")], Due("""{"name":"d","cron":"@yearly","tasks":[{"id":"a"}]}""", "2021-01-01T00:00:00Z"));
    }

    [Fact]
    public void DueRuns_StopsAtEndDate()
    {
        var dates = Due("""{"name":"d","cron":"@hourly","catchup":true,"end_date":"2027-06-15T10:30:00Z","tasks":[{"id":"a"}]}""", "2027-06-15T08:00:00Z");
        Assert.Equal(["08", "09", "10"], dates.Select(d => d.ToString("HH")));
    }
}
