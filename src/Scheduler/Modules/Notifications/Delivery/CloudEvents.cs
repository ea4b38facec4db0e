using System.Text.Json.Nodes;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications.Delivery;

/// <summary>
/// CloudEvents 1.0 in structured JSON mode, for webhook channels with <c>format: cloudevents</c>:
/// the event's usual JSON becomes <c>data</c>, wrapped in the attributes a CloudEvents receiver
/// routes on. <c>id</c> is the outbox event's id, the same on every retry of a delivery, so a
/// receiver deduplicates on (source, id) as the specification intends.
/// </summary>
internal static class CloudEvents
{
    public const string ContentType = "application/cloudevents+json";
    public const string TypePrefix = "dev.scheduler.";

    /// <summary>The CloudEvents type of a notification kind: <c>dev.scheduler.run.failed</c>, ...</summary>
    public static string Type(string kind) => TypePrefix + kind switch
    {
        NotificationEvents.RunFailure => "run.failed",
        NotificationEvents.RunSuccess => "run.success",
        NotificationEvents.SlaMiss => "run.sla_miss",
        NotificationEvents.TaskRetry => "task.retry",
        NotificationEvents.TaskFailure => "task.failed",
        NotificationEvents.DeadLetter => "task.dead_letter",
        NotificationEvents.MonitorLate => "monitor.late",
        NotificationEvents.MonitorFailed => "monitor.failed",
        NotificationEvents.MonitorRecovered => "monitor.recovered",
        _ => kind,
    };

    /// <param name="data">The webhook's plain JSON body (delivery_id included).</param>
    /// <param name="publicUrl">Notifications:PublicUrl, the source when set; else <c>urn:scheduler</c>.</param>
    public static JsonObject Envelope(string kind, JsonObject data, string? publicUrl, DateTimeOffset now)
    {
        var id = data["event_id"]?.ToString() is { Length: > 0 } eventId && eventId != "0"
            ? eventId
            : data["delivery_id"]?.ToString() ?? Guid.NewGuid().ToString("N");
        var envelope = new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = id,
            ["source"] = string.IsNullOrWhiteSpace(publicUrl) ? "urn:scheduler" : publicUrl.TrimEnd('/'),
            ["type"] = Type(kind),
            ["time"] = data["occurred_at"]?.DeepClone() ?? Scheduler.Infrastructure.Json.InstantJsonConverter.Format(now),
        };
        if (Subject(data) is { } subject)
            envelope["subject"] = subject;
        envelope["datacontenttype"] = "application/json";
        envelope["data"] = data;
        return envelope;
    }

    /// <summary><c>dags/{dag}/runs/{run_id}[/tasks/{task_id}]</c>, or <c>monitors/{name}</c>; null for a digest.</summary>
    private static string? Subject(JsonObject data)
    {
        if (data["monitor"]?.ToString() is { } monitor)
            return $"monitors/{monitor}";
        if (data["dag"]?.ToString() is not { } dag)
            return null;
        var subject = $"dags/{dag}";
        if (data["run_id"] is { } run)
            subject += $"/runs/{run}";
        if (data["task_id"]?.ToString() is { } task)
            subject += $"/tasks/{task}";
        return subject;
    }
}
