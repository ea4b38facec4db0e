using Scheduler.Infrastructure.Schedules;

namespace Scheduler.UnitTests.Infrastructure.Schedules;

/// <summary>Schedules at the ends of DateTimeOffset's range: no next fire, never an exception.</summary>
public sealed class ScheduleEdgeTests
{
    public static TheoryData<string, string> Zones => new()
    {
        { "* * * * *", "UTC" },
        { "* * * * *", "Pacific/Kiritimati" },
        { "0 0 * * *", "Etc/GMT-14" },
        { "0 0 1 1 *", "Etc/GMT+12" },
        { "30 2 * * *", "America/New_York" },
        { "0 0 L * *", "Australia/Lord_Howe" },
    };

    [Theory]
    [MemberData(nameof(Zones))]
    public void Cron_Next_IsNullOrInRange_AtTheEndOfTime(string expression, string zone)
    {
        Assert.True(TimeZones.TryFind(zone, out var tz));
        Assert.True(CronSchedule.TryParse(expression, tz, out var schedule, out var error), error);
        foreach (var from in new[] { DateTimeOffset.MaxValue, DateTimeOffset.MaxValue.AddHours(-1), DateTimeOffset.MaxValue.AddDays(-1), new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero) })
        {
            var upcoming = schedule!.Upcoming(from, 2000).ToList();
            Assert.All(upcoming, fire => Assert.True(fire > from));
        }
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Cron_Next_FindsAFire_AtTheStartOfTime(string expression, string zone)
    {
        Assert.True(TimeZones.TryFind(zone, out var tz));
        Assert.True(CronSchedule.TryParse(expression, tz, out var schedule, out var error), error);
        var next = schedule!.Next(DateTimeOffset.MinValue);
        Assert.NotNull(next);
        Assert.True(next < new DateTimeOffset(3, 1, 1, 0, 0, 0, TimeSpan.Zero), $"{next:O}");
    }

    [Fact]
    public void Interval_Next_IsNull_PastTheEndOfTime()
    {
        var schedule = new IntervalSchedule(TimeSpan.FromMinutes(15), DateTimeOffset.UnixEpoch);
        Assert.Null(schedule.Next(DateTimeOffset.MaxValue));
        Assert.Equal(new DateTimeOffset(9999, 12, 31, 23, 45, 0, TimeSpan.Zero), schedule.Next(new DateTimeOffset(9999, 12, 31, 23, 30, 0, TimeSpan.Zero)));
        Assert.Null(schedule.Next(new DateTimeOffset(9999, 12, 31, 23, 45, 0, TimeSpan.Zero)));
        Assert.Equal(96, schedule.Upcoming(new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), 1000).Count() + 1);
    }

    [Fact]
    public void Interval_Next_IsTheAnchor_FromTheStartOfTime()
    {
        var schedule = new IntervalSchedule(TimeSpan.FromDays(365), new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero), schedule.Next(DateTimeOffset.MinValue));
        Assert.Null(schedule.Next(new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero)));
        var early = new IntervalSchedule(TimeSpan.FromSeconds(1), DateTimeOffset.MinValue);
        Assert.Equal(DateTimeOffset.MinValue.AddSeconds(1), early.Next(DateTimeOffset.MinValue));
        Assert.Null(early.Next(DateTimeOffset.MaxValue.AddTicks(-1)));
    }
}
