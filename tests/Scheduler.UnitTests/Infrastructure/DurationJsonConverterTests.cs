using System.Text.Json;
using Scheduler.Infrastructure.Json;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class DurationJsonConverterTests
{
    private sealed record Holder(TimeSpan? D);

    private static TimeSpan? Read(string value) => JsonSerializer.Deserialize<Holder>($"{{\"d\":{value}}}", JsonConventions.Options)!.D;

    [Theory]
    [InlineData("\"PT30S\"", 30)]
    [InlineData("\"PT1M30S\"", 90)]
    [InlineData("\"P1DT2H\"", 93_600)]
    [InlineData("45", 45)]
    [InlineData("0.5", 0.5)]
    public void Read_AcceptsIso8601AndSeconds(string json, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Read(json));
    }

    [Theory]
    [InlineData("\"30s\"")]
    [InlineData("\"P1M\"")]
    [InlineData("\"P1Y\"")]
    [InlineData("\"-PT5S\"")]
    [InlineData("-5")]
    [InlineData("1e300")]
    [InlineData("true")]
    public void Read_Rejects_WhenNotADuration(string json)
    {
        Assert.Throws<JsonException>(() => Read(json));
    }

    [Fact]
    public void Write_UsesIso8601()
    {
        Assert.Equal("{\"d\":\"PT1M30S\"}", JsonSerializer.Serialize(new Holder(TimeSpan.FromSeconds(90)), JsonConventions.Options));
    }

    [Fact]
    public void Instants_AreWrittenInUtcWithZ()
    {
        var json = JsonSerializer.Serialize(new { at = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(1)) }, JsonConventions.Options);
        Assert.Equal("{\"at\":\"2026-11-23T09:00:00Z\"}", json);
    }
}
