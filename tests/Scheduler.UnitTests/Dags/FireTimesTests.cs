using Scheduler.Infrastructure.Schedules;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.UnitTests.Dags;

/// <summary>The one function that decides fire times: calendars, holidays, maintenance windows, DST and year ends.</summary>
public sealed class FireTimesTests
{
    private static TimeZoneInfo Zone(string id) => TimeZones.TryFind(id, out var zone) ? zone : throw new ArgumentException(id);

    private static ISchedule Cron(string expression, string zone = "UTC") =>
        CronSchedule.TryParse(expression, Zone(zone), out var cron, out var error) ? cron! : throw new ArgumentException(error);

    private static DateTimeOffset At(string instant) => DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture);

    private static ExclusionCalendar Calendar(string zone, string[]? dates = null, (string, string)[]? ranges = null, string? holidays = null) =>
        new("cal", Zone(zone), (dates ?? []).Select(DateOnly.Parse).ToHashSet(),
            (ranges ?? []).Select(r => (DateOnly.Parse(r.Item1), DateOnly.Parse(r.Item2))).ToList(), holidays);

    private static FireRules Rules(ISchedule schedule, ExclusionCalendar[]? calendars = null, MaintenanceWindow[]? windows = null) =>
        new(schedule, null, null, calendars ?? [], windows ?? []);

    private static MaintenanceWindow Window(string cron, TimeSpan duration) => new(cron, Cron(cron), duration);

    [Fact]
    public void After_SkipsAFireOnAnExcludedDay_InTheCalendarsZone_AcrossTheYearEnd()
    {
        // 23:30 UTC on 31 December is 00:30 on 1 January in Berlin: excluded there.
        var rules = Rules(Cron("30 23 * * *"), [Calendar("Europe/Berlin", dates: ["2027-01-01"])]);
        var fires = FireTimes.After(rules, At("2026-12-30T00:00:00Z")).Take(3).ToList();
        Assert.Equal([At("2026-12-30T23:30:00Z"), At("2026-12-31T23:30:00Z"), At("2027-01-01T23:30:00Z")], fires.Select(f => f.LogicalDate));
        Assert.Equal([false, true, false], fires.Select(f => f.Skipped));
        Assert.Contains("2027-01-01", fires[1].SkippedBy);
    }

    [Fact]
    public void After_SkipsEveryFireOfA25HourDay_WhenDstEnds()
    {
        // 31 October 2027 in Berlin has 25 hours: 25 hourly fires, all skipped.
        var rules = Rules(Cron("0 * * * *", "Europe/Berlin"), [Calendar("Europe/Berlin", dates: ["2027-10-31"])]);
        var fires = FireTimes.After(rules, At("2027-10-30T20:59:00Z"), everySkip: true).Take(27).ToList();
        Assert.False(fires[0].Skipped); // 2027-10-30T21:00Z is 23:00 CEST on the 30th
        Assert.Equal(25, fires.Skip(1).TakeWhile(f => f.Skipped).Count());
        Assert.Equal(At("2027-10-31T23:00:00Z"), fires[26].LogicalDate); // midnight of 1 November, CET
        Assert.False(fires[26].Skipped);
    }

    [Fact]
    public void After_SkipsTheSpringForwardFire_AndResumesTheNextDay()
    {
        // 02:30 does not exist on 28 March 2027 in Berlin; the fire moves to 03:00 CEST, still that day.
        var rules = Rules(Cron("30 2 * * *", "Europe/Berlin"), [Calendar("Europe/Berlin", dates: ["2027-03-28"])]);
        var fires = FireTimes.After(rules, At("2027-03-27T12:00:00Z")).Take(2).ToList();
        Assert.True(fires[0].Skipped);
        Assert.Equal(At("2027-03-28T01:00:00Z"), fires[0].LogicalDate);
        Assert.Equal(At("2027-03-29T00:30:00Z"), fires[1].LogicalDate);
        Assert.False(fires[1].Skipped);
    }

    [Fact]
    public void After_PassesAnExcludedRangeInOneStep()
    {
        var rules = Rules(Cron("0 * * * *"), [Calendar("UTC", ranges: [("2027-01-01", "2027-01-31")])]);
        var fires = FireTimes.After(rules, At("2026-12-31T22:30:00Z")).Take(3).ToList();
        Assert.Equal([At("2026-12-31T23:00:00Z"), At("2027-01-01T00:00:00Z"), At("2027-02-01T00:00:00Z")], fires.Select(f => f.LogicalDate));
        Assert.Equal([false, true, false], fires.Select(f => f.Skipped));
    }

    [Fact]
    public void After_SkipsPublicHolidays_ByCountry()
    {
        var rules = Rules(Cron("0 12 * * *"), [Calendar("America/New_York", holidays: "US")]);
        var fires = FireTimes.After(rules, At("2026-12-24T00:00:00Z")).Take(2).ToList();
        Assert.False(fires[0].Skipped);
        Assert.True(fires[1].Skipped);
        Assert.Contains("Christmas", fires[1].SkippedBy);
    }

    [Fact]
    public void MaintenanceWindow_HoldsFiresUntilItEnds()
    {
        var rules = Rules(Cron("*/30 * * * *"), windows: [Window("0 2 * * *", TimeSpan.FromHours(2))]);
        Assert.Equal(At("2027-05-01T04:00:00Z"), FireTimes.NextDue(rules, At("2027-05-01T01:59:00Z")));
        Assert.Equal(At("2027-05-01T04:00:00Z"), FireTimes.NextDue(rules, At("2027-05-01T03:10:00Z")));
        Assert.Equal(At("2027-05-01T04:30:00Z"), FireTimes.NextDue(rules, At("2027-05-01T04:00:00Z")));
        var held = FireTimes.DueBetween(rules, At("2027-05-01T04:00:00Z"), At("2027-05-01T04:00:01Z"), 100);
        Assert.Equal(["02:00", "02:30", "03:00", "03:30", "04:00"], held.Select(d => d.ToString("HH:mm")));
        Assert.Equal([At("2027-05-01T04:00:00Z")], FireTimes.DueBetween(rules, At("2027-05-01T04:00:00Z"), At("2027-05-01T04:00:01Z"), 1));
    }

    [Fact]
    public void MaintenanceWindows_ThatOverlap_HoldUntilTheLastCloses()
    {
        var windows = new[] { Window("0 2 * * *", TimeSpan.FromHours(1)), Window("30 2 * * *", TimeSpan.FromHours(1)) };
        Assert.Equal(At("2027-05-01T03:30:00Z"), FireTimes.ReleaseAt(windows, At("2027-05-01T02:15:00Z"), out var heldBy));
        Assert.NotNull(heldBy);
        Assert.Equal(At("2027-05-01T02:00:00Z"), FireTimes.HeldSince(windows, At("2027-05-01T03:30:00Z")));
        Assert.Equal(At("2027-05-01T01:59:00Z"), FireTimes.ReleaseAt(windows, At("2027-05-01T01:59:00Z"), out var none));
        Assert.Null(none);
    }

    [Fact]
    public void MaintenanceWindows_ThatNeverClose_MeanNoNextRun()
    {
        var rules = Rules(Cron("0 * * * *"), windows: [Window("* * * * *", TimeSpan.FromMinutes(2))]);
        Assert.Null(FireTimes.NextDue(rules, At("2027-05-01T00:00:00Z")));
    }

    [Fact]
    public void DueBetween_LeavesSkippedDaysOut_WhenCatchingUp()
    {
        var rules = Rules(Cron("0 6 * * *"), [Calendar("UTC", dates: ["2027-01-02"])]);
        var due = FireTimes.DueBetween(rules, At("2027-01-01T06:00:00Z"), At("2027-01-04T07:00:00Z"), 100);
        Assert.Equal(["2027-01-01", "2027-01-03", "2027-01-04"], due.Select(d => d.ToString("yyyy-MM-dd")));
        // next_run_at passes over the excluded 5th.
        var next = FireTimes.NextDue(rules with { Calendars = [Calendar("UTC", dates: ["2027-01-05"])] }, At("2027-01-04T07:00:00Z"));
        Assert.Equal(At("2027-01-06T06:00:00Z"), next);
    }

    [Fact]
    public void Between_GivesTheBackfillDates_InclusiveAndWithoutExcludedDays()
    {
        var rules = Rules(Cron("0 0 * * *"), [Calendar("UTC", dates: ["2027-01-05"])], [Window("0 0 * * *", TimeSpan.FromHours(1))]);
        var dates = FireTimes.Between(rules, At("2027-01-01T00:00:00Z"), At("2027-01-10T00:00:00Z"), 1000);
        Assert.Equal(9, dates.Count);
        Assert.Equal(At("2027-01-01T00:00:00Z"), dates[0]);
        Assert.Equal(At("2027-01-10T00:00:00Z"), dates[^1]);
        Assert.DoesNotContain(At("2027-01-05T00:00:00Z"), dates);
        Assert.Equal(4, FireTimes.Between(rules, At("2027-01-01T00:00:00Z"), At("2027-01-10T00:00:00Z"), 3).Count);
    }

    [Fact]
    public void StartOfDay_IsTheFirstValidInstant_OnDstDays()
    {
        Assert.Equal(At("2027-03-27T23:00:00Z"), FireTimes.StartOfDay(Zone("Europe/Berlin"), new DateOnly(2027, 3, 28)));
        Assert.Equal(At("2027-10-30T22:00:00Z"), FireTimes.StartOfDay(Zone("Europe/Berlin"), new DateOnly(2027, 10, 31)));
    }
}
