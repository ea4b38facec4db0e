using Scheduler.Infrastructure.Schedules;

namespace Scheduler.UnitTests.Infrastructure.Schedules;

public sealed class CronScheduleTests
{
    private static TimeZoneInfo Zone(string id) => TimeZones.TryFind(id, out var zone) ? zone : throw new ArgumentException(id);

    private static string[] Next(string expr, string tz, string from, int count = 3)
    {
        Assert.True(CronSchedule.TryParse(expr, Zone(tz), out var schedule, out var error), error);
        return schedule!.Upcoming(DateTimeOffset.Parse(from), count).Select(d => d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")).ToArray();
    }

    [Fact]
    public void Next_SkipsToJump_WhenSpringForwardInNewYork()
    {
        // 2027-03-14 02:00 EST -> 03:00 EDT: 02:30 does not exist that day; it fires at the jump.
        Assert.Equal(["2027-03-13T07:30:00Z", "2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"], Next("30 2 * * *", "America/New_York", "2027-03-13T00:00:00Z"));
    }

    [Fact]
    public void Next_SkipsToJump_WhenSpringForwardInBerlin()
    {
        // 2027-03-28 02:00 CET -> 03:00 CEST: 02:30 fires at the jump, 03:00 CEST = 01:00Z.
        Assert.Equal(["2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"], Next("30 2 * * *", "Europe/Berlin", "2027-03-27T00:00:00Z"));
    }

    [Fact]
    public void Next_FiresOnce_WhenFixedTimeInRepeatedHourInNewYork()
    {
        // 2027-11-07 02:00 EDT -> 01:00 EST: 01:30 happens twice; a fixed-time job runs once (the first pass).
        Assert.Equal(["2027-11-06T05:30:00Z", "2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z"], Next("30 1 * * *", "America/New_York", "2027-11-06T00:00:00Z"));
    }

    [Fact]
    public void Next_FiresOnce_WhenFixedTimeInRepeatedHourInBerlin()
    {
        // 2027-10-31 03:00 CEST -> 02:00 CET: 02:30 happens twice; a fixed-time job runs once.
        Assert.Equal(["2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"], Next("30 2 * * *", "Europe/Berlin", "2027-10-30T00:00:00Z"));
    }

    [Fact]
    public void Next_FiresOnBothPasses_WhenWildcardInRepeatedHour()
    {
        // Every 30 minutes through the repeated 02:00-03:00 hour in Berlin: four fires in that wall hour.
        var fires = Next("*/30 * * * *", "Europe/Berlin", "2027-10-30T23:59:00Z", 5);
        Assert.Equal(["2027-10-31T00:00:00Z", "2027-10-31T00:30:00Z", "2027-10-31T01:00:00Z", "2027-10-31T01:30:00Z", "2027-10-31T02:00:00Z"], fires);
    }

    [Fact]
    public void Next_OrsDayOfMonthAndDayOfWeek_WhenBothRestricted()
    {
        // Vixie: the 13th OR any Friday (not only Friday the 13th).
        Assert.Equal(["2027-08-06T00:00:00Z", "2027-08-13T00:00:00Z", "2027-08-20T00:00:00Z"], Next("0 0 13 * 5", "UTC", "2027-08-01T00:00:00Z"));
        Assert.Equal(["2027-09-03T00:00:00Z", "2027-09-10T00:00:00Z", "2027-09-13T00:00:00Z"], Next("0 0 13 * 5", "UTC", "2027-08-28T00:00:00Z"));
    }

    [Fact]
    public void Next_AndsDays_WhenOneDayFieldIsAStar()
    {
        Assert.Equal(["2027-08-06T00:00:00Z", "2027-08-13T00:00:00Z", "2027-08-20T00:00:00Z"], Next("0 0 * * FRI", "UTC", "2027-08-01T00:00:00Z"));
        Assert.Equal(["2027-08-13T00:00:00Z", "2027-09-13T00:00:00Z", "2027-10-13T00:00:00Z"], Next("0 0 13 * ?", "UTC", "2027-08-01T00:00:00Z"));
    }

    [Fact]
    public void Next_FindsFeb29_AcrossYears()
    {
        Assert.Equal(["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"], Next("0 0 29 2 *", "UTC", "2026-11-24T00:00:00Z", 2));
    }

    [Theory]
    [InlineData("0 0 L * *", "2027-02-28T00:00:00Z")]
    [InlineData("0 0 LW * *", "2027-02-26T00:00:00Z")]
    [InlineData("0 0 15W * *", "2027-02-15T00:00:00Z")]
    [InlineData("0 0 * * 5L", "2027-02-26T00:00:00Z")]
    [InlineData("0 0 * * MON#2", "2027-02-08T00:00:00Z")]
    [InlineData("0 0 1 FEB *", "2027-02-01T00:00:00Z")]
    [InlineData("0 0 * * 7", "2027-02-07T00:00:00Z")]
    public void Next_UnderstandsSpecialCharacters(string expr, string first)
    {
        Assert.Equal(first, Next(expr, "UTC", "2027-01-31T23:59:59Z", 1)[0]);
    }

    [Fact]
    public void Next_FiresEverySecond_WithSixFields()
    {
        Assert.Equal(["2027-01-01T00:00:01Z", "2027-01-01T00:00:02Z", "2027-01-01T00:00:03Z"], Next("* * * * * *", "UTC", "2027-01-01T00:00:00Z"));
        Assert.Equal(["2027-01-01T00:00:15Z", "2027-01-01T00:00:45Z"], Next("15,45 * * * * *", "UTC", "2027-01-01T00:00:00Z", 2));
    }

    [Theory]
    [InlineData("@hourly", "2027-01-01T01:00:00Z")]
    [InlineData("@daily", "2027-01-02T00:00:00Z")]
    [InlineData("@midnight", "2027-01-02T00:00:00Z")]
    [InlineData("@weekly", "2027-01-03T00:00:00Z")]
    [InlineData("@monthly", "2027-02-01T00:00:00Z")]
    [InlineData("@yearly", "2028-01-01T00:00:00Z")]
    [InlineData("@annually", "2028-01-01T00:00:00Z")]
    public void Next_ExpandsMacros(string macro, string first)
    {
        Assert.Equal(first, Next(macro, "UTC", "2027-01-01T00:00:00Z", 1)[0]);
    }

    [Theory]
    [InlineData("* * *", "3 fields")]
    [InlineData("* * * * * * *", "7 fields")]
    [InlineData("61 * * * *", "minute field")]
    [InlineData("0 25 * * *", "hour field")]
    [InlineData("0 0 32 * *", "day-of-month field")]
    [InlineData("0 0 * 13 *", "month field")]
    [InlineData("0 0 * * 8", "day-of-week field")]
    [InlineData("@every_minute_please", "unknown macro")]
    [InlineData("", "5 fields")]
    [InlineData("0 0 30 2 *", "never fires")]
    public void TryParse_ExplainsWhatIsWrong_WhenInvalid(string expr, string expected)
    {
        Assert.False(CronSchedule.TryParse(expr, TimeZoneInfo.Utc, out _, out var error));
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("Europe/Berlin", true)]
    [InlineData("America/New_York", true)]
    [InlineData("UTC", true)]
    [InlineData("Etc/UTC", true)]
    [InlineData("Not/AZone", false)]
    [InlineData("Pacific Standard Time", false)]
    [InlineData("", false)]
    [InlineData(" UTC", false)]
    public void TryFind_AcceptsIanaIdsOnly(string id, bool valid)
    {
        Assert.Equal(valid, TimeZones.TryFind(id, out _));
    }

    [Fact]
    public void Interval_RefusesANonPositivePeriod()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new IntervalSchedule(TimeSpan.Zero, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void Interval_FiresOnAGridFromTheAnchor()
    {
        var schedule = new IntervalSchedule(TimeSpan.FromMinutes(15), DateTimeOffset.Parse("2030-01-01T00:05:00Z"));
        Assert.Equal(DateTimeOffset.Parse("2030-01-01T00:05:00Z"), schedule.Next(DateTimeOffset.Parse("2029-06-01T00:00:00Z")));
        Assert.Equal(DateTimeOffset.Parse("2030-01-01T00:20:00Z"), schedule.Next(DateTimeOffset.Parse("2030-01-01T00:05:00Z")));
        Assert.Equal(DateTimeOffset.Parse("2030-01-01T01:05:00Z"), schedule.Next(DateTimeOffset.Parse("2030-01-01T00:59:59Z")));
    }
}
