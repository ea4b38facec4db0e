using Scheduler.Modules.Runs.Engine;

namespace Scheduler.UnitTests.Runs;

public sealed class RetryBackoffTests
{
    [Fact]
    public void Delay_IsConstant_WhenFixed()
    {
        for (var attempt = 1; attempt < 10; attempt++)
            Assert.Equal(TimeSpan.FromSeconds(30), RetryBackoff.Delay(TimeSpan.FromSeconds(30), false, null, attempt, 0.7));
    }

    [Theory]
    [InlineData(1, 5, 10)]
    [InlineData(2, 10, 20)]
    [InlineData(3, 20, 40)]
    [InlineData(4, 40, 80)]
    public void Delay_DoublesWithEqualJitter_WhenExponential(int attempt, double min, double max)
    {
        Assert.Equal(TimeSpan.FromSeconds(min), RetryBackoff.Delay(TimeSpan.FromSeconds(10), true, null, attempt, 0));
        Assert.Equal(TimeSpan.FromSeconds(max), RetryBackoff.Delay(TimeSpan.FromSeconds(10), true, null, attempt, 1));
        var mid = RetryBackoff.Delay(TimeSpan.FromSeconds(10), true, null, attempt, 0.5);
        Assert.InRange(mid.TotalSeconds, min, max);
    }

    [Fact]
    public void Delay_NeverExceedsCap()
    {
        var cap = TimeSpan.FromMinutes(5);
        var random = new Random(42);
        for (var attempt = 1; attempt <= 200; attempt++)
        {
            var delay = RetryBackoff.Delay(TimeSpan.FromSeconds(7), true, cap, attempt, random.NextDouble());
            Assert.True(delay <= cap, $"attempt {attempt}: {delay} > {cap}");
            Assert.True(delay > TimeSpan.Zero);
        }
        Assert.Equal(cap, RetryBackoff.Delay(TimeSpan.FromHours(1), false, cap, 1, 0));
    }

    [Fact]
    public void Delay_UsesDefaultCap_WhenNoneGiven()
    {
        Assert.Equal(RetryBackoff.DefaultCap, RetryBackoff.Delay(TimeSpan.FromSeconds(1), true, null, 1000, 1));
    }
}
