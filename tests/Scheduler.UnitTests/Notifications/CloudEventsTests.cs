using System.Text.Json.Nodes;
using Scheduler.Modules.Notifications.Delivery;

namespace Scheduler.UnitTests.Notifications;

public sealed class CloudEventsTests
{
    [Theory]
    [InlineData("failure", "dev.scheduler.run.failed")]
    [InlineData("success", "dev.scheduler.run.success")]
    [InlineData("retry", "dev.scheduler.task.retry")]
    [InlineData("task_failure", "dev.scheduler.task.failed")]
    [InlineData("monitor_late", "dev.scheduler.monitor.late")]
    [InlineData("digest", "dev.scheduler.digest")]
    public void Type_NamesTheKind_InReverseDnsForm(string kind, string expected) => Assert.Equal(expected, CloudEvents.Type(kind));

    [Fact]
    public void Envelope_WrapsTheData_WithTheRequiredAttributes()
    {
        var data = JsonNode.Parse("""{"event":"retry","event_id":42,"occurred_at":"2027-01-02T03:04:05Z","dag":"d","run_id":7,"task_id":"t","delivery_id":9}""")!.AsObject();
        var e = CloudEvents.Envelope("retry", data, "https://scheduler.example.test/", DateTimeOffset.UnixEpoch);
        Assert.Equal("1.0", e["specversion"]!.GetValue<string>());
        Assert.Equal("42", e["id"]!.GetValue<string>());
        Assert.Equal("https://scheduler.example.test", e["source"]!.GetValue<string>());
        Assert.Equal("dev.scheduler.task.retry", e["type"]!.GetValue<string>());
        Assert.Equal("2027-01-02T03:04:05Z", e["time"]!.GetValue<string>());
        Assert.Equal("dags/d/runs/7/tasks/t", e["subject"]!.GetValue<string>());
        Assert.Equal("application/json", e["datacontenttype"]!.GetValue<string>());
        Assert.Equal(9, e["data"]!["delivery_id"]!.GetValue<int>());
    }

    [Fact]
    public void Envelope_WithoutPublicUrlOrEventId_UsesAUrnAndTheDeliveryId()
    {
        var e = CloudEvents.Envelope("digest", JsonNode.Parse("""{"event":"digest","delivery_id":5}""")!.AsObject(), null, DateTimeOffset.UnixEpoch);
        Assert.Equal("urn:scheduler", e["source"]!.GetValue<string>());
        Assert.Equal("5", e["id"]!.GetValue<string>());
        Assert.Null(e["subject"]);
        Assert.Equal("1970-01-01T00:00:00Z", e["time"]!.GetValue<string>());
    }
}
