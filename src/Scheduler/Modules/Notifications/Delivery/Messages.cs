using System.Globalization;
using System.Text.Json.Nodes;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Notifications.Delivery;

internal enum Severity { Good, Warning, Danger, Info }

/// <summary>
/// One message, independent of the channel: each sender renders it in its own format
/// (Block Kit, Adaptive Card, HTML mail, SMS text, signed JSON).
/// </summary>
internal sealed record NotificationMessage(
    string Kind,
    string Title,
    string Summary,
    Severity Severity,
    IReadOnlyList<KeyValuePair<string, string>> Facts,
    IReadOnlyList<string> Items,
    string? ItemsTitle,
    string? Link,
    JsonObject Data)
{
    /// <summary>Plain text: title, summary, facts, items, link (SMS and the text part of mail).</summary>
    public string PlainText(int maxItems = 50)
    {
        var lines = new List<string> { Title, Summary };
        lines.AddRange(Facts.Select(f => $"{f.Key}: {f.Value}"));
        if (Items.Count > 0)
        {
            lines.Add(ItemsTitle ?? "Items:");
            lines.AddRange(Items.Take(maxItems).Select(i => "- " + i));
            if (Items.Count > maxItems)
                lines.Add($"... and {Items.Count - maxItems} more");
        }
        if (Link is not null)
            lines.Add(Link);
        return string.Join('\n', lines.Where(l => l.Length > 0));
    }
}

/// <summary>The facts of an event as the builder needs them (read when the message is sent).</summary>
internal sealed record EventFacts(
    long EventId, string Kind, DateTimeOffset OccurredAt, string? DagName, long? RunId, string? TaskId, int? Attempt, string? Detail,
    RunFacts? Run, MonitorFacts? Monitor);

internal sealed record MonitorFacts(string Name, string State, string Schedule, string Timezone, TimeSpan Grace, DateTimeOffset? ExpectedAt, DateTimeOffset? LastSuccessAt, string? LastMessage);

internal static class Messages
{
    public static string Instant(DateTimeOffset? t) => t is null ? "-" : t.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan d) => d.TotalSeconds < 1 ? $"{d.TotalMilliseconds:0} ms"
        : d.TotalMinutes < 1 ? $"{d.TotalSeconds:0.#} s"
        : d.TotalHours < 1 ? $"{(int)d.TotalMinutes} min {d.Seconds} s"
        : $"{(int)d.TotalHours} h {d.Minutes} min";

    public static NotificationMessage Test(string channel, DateTimeOffset now) => new(
        "test", "Test message from Scheduler", $"The channel '{channel}' is set up and reachable.", Severity.Info,
        [new("Channel", channel), new("Sent at", Instant(now))], [], null, null,
        new JsonObject { ["event"] = "test", ["channel"] = channel, ["occurred_at"] = Instant(now) });

    public static NotificationMessage Build(EventFacts e, string? publicUrl)
    {
        var facts = new List<KeyValuePair<string, string>>();
        var items = new List<string>();
        string? itemsTitle = null;
        string title, summary;
        var severity = Severity.Danger;
        var run = e.Run;
        string? link = run is null || string.IsNullOrWhiteSpace(publicUrl) ? null : $"{publicUrl.TrimEnd('/')}/admin/runs/{run.RunId}";
        if (e.DagName is not null)
            facts.Add(new("DAG", e.DagName));
        if (e.RunId is not null)
            facts.Add(new("Run", e.RunId.Value.ToString(CultureInfo.InvariantCulture)));
        if (run is not null)
        {
            facts.Add(new("Logical date", Instant(run.LogicalDate)));
            facts.Add(new("State", run.State));
            var end = run.FinishedAt ?? e.OccurredAt;
            if (run.StartedAt is { } started)
                facts.Add(new("Duration", Duration(end - started)));
        }
        switch (e.Kind)
        {
            case NotificationEvents.RunSuccess:
                (title, summary, severity) = ($"{e.DagName}: run {e.RunId} succeeded", $"Run {e.RunId} of {e.DagName} finished successfully.", Severity.Good);
                break;
            case NotificationEvents.RunFailure:
                (title, summary) = ($"{e.DagName}: run {e.RunId} failed", $"Run {e.RunId} of {e.DagName} failed.");
                if (run is not null)
                {
                    items.AddRange(run.FailedTasks);
                    itemsTitle = "Failed tasks:";
                }
                break;
            case NotificationEvents.TaskRetry:
                (title, summary, severity) = ($"{e.DagName}: task {e.TaskId} is retrying", $"Attempt {e.Attempt} of task {e.TaskId} failed; it will be retried.", Severity.Warning);
                break;
            case NotificationEvents.TaskFailure:
                (title, summary) = ($"{e.DagName}: task {e.TaskId} failed", $"Task {e.TaskId} failed on attempt {e.Attempt}, its last.");
                break;
            case NotificationEvents.DeadLetter:
                (title, summary) = ($"{e.DagName}: task {e.TaskId} is a dead letter", $"Task {e.TaskId} used up its retries ({e.Attempt} attempts); it can be requeued from the dead letters.");
                break;
            case NotificationEvents.SlaMiss:
                (title, summary, severity) = ($"{e.DagName}: run {e.RunId} missed its SLA", e.Detail ?? $"Run {e.RunId} of {e.DagName} has not finished within its SLA.", Severity.Warning);
                break;
            case NotificationEvents.MonitorLate or NotificationEvents.MonitorFailed or NotificationEvents.MonitorRecovered:
                var m = e.Monitor;
                var name = m?.Name ?? "(deleted monitor)";
                (title, summary, severity) = e.Kind switch
                {
                    NotificationEvents.MonitorLate => ($"Monitor {name} is late", e.Detail ?? $"No ping from {name} in time.", Severity.Danger),
                    NotificationEvents.MonitorFailed => ($"Monitor {name} reported a failure", e.Detail ?? $"{name} pinged 'fail'.", Severity.Danger),
                    _ => ($"Monitor {name} recovered", e.Detail ?? $"{name} is reporting success again.", Severity.Good),
                };
                if (m is not null)
                {
                    facts.Add(new("Monitor", m.Name));
                    facts.Add(new("Schedule", $"{m.Schedule} ({m.Timezone})"));
                    facts.Add(new("Grace", Duration(m.Grace)));
                    facts.Add(new("Expected at", Instant(m.ExpectedAt)));
                    facts.Add(new("Last success", Instant(m.LastSuccessAt)));
                }
                break;
            default:
                (title, summary, severity) = ($"Scheduler event {e.Kind}", e.Detail ?? "", Severity.Info);
                break;
        }
        if (e.TaskId is not null)
            facts.Add(new("Task", e.TaskId));
        if (e.Attempt is not null)
            facts.Add(new("Attempt", e.Attempt.Value.ToString(CultureInfo.InvariantCulture)));
        if (e.Detail is not null && e.Kind is NotificationEvents.TaskRetry or NotificationEvents.TaskFailure or NotificationEvents.DeadLetter)
            facts.Add(new("Error", e.Detail));
        return new NotificationMessage(e.Kind, title, summary, severity, facts, items, itemsTitle, link, Data(e, title, summary, link));
    }

    /// <summary>A status digest: every monitor and DAG with its last state.</summary>
    public static NotificationMessage Digest(DateTimeOffset at, IReadOnlyList<LatestRun> dags, IReadOnlyList<MonitorFacts> monitors, string? publicUrl)
    {
        var items = new List<string>();
        items.AddRange(monitors.Select(m => $"monitor {m.Name}: {m.State} (last success {Instant(m.LastSuccessAt)})"));
        items.AddRange(dags.Select(d => $"dag {d.DagName}: {d.State} (run {d.RunId}, {Instant(d.LogicalDate)})"));
        var failing = dags.Count(d => d.State == "failed") + monitors.Count(m => m.State is "late" or "failed");
        var data = new JsonObject
        {
            ["event"] = NotificationEvents.Digest,
            ["occurred_at"] = Instant(at),
            ["dags"] = new JsonArray(dags.Select(d => (JsonNode)new JsonObject { ["name"] = d.DagName, ["state"] = d.State, ["run_id"] = d.RunId }).ToArray()),
            ["monitors"] = new JsonArray(monitors.Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["state"] = m.State }).ToArray()),
        };
        return new NotificationMessage(NotificationEvents.Digest, $"Scheduler status at {Instant(at)}",
            $"{dags.Count} DAGs and {monitors.Count} monitors; {failing} failing or late.", failing > 0 ? Severity.Warning : Severity.Good,
            [new("DAGs", dags.Count.ToString(CultureInfo.InvariantCulture)), new("Monitors", monitors.Count.ToString(CultureInfo.InvariantCulture)), new("Failing or late", failing.ToString(CultureInfo.InvariantCulture))],
            items, "Last states:", string.IsNullOrWhiteSpace(publicUrl) ? null : $"{publicUrl.TrimEnd('/')}/admin", data);
    }

    private static JsonObject Data(EventFacts e, string title, string summary, string? link)
    {
        var data = new JsonObject
        {
            ["event"] = e.Kind,
            ["event_id"] = e.EventId,
            ["occurred_at"] = Instant(e.OccurredAt),
            ["title"] = title,
            ["summary"] = summary,
        };
        if (e.DagName is not null) data["dag"] = e.DagName;
        if (e.RunId is not null) data["run_id"] = e.RunId;
        if (e.TaskId is not null) data["task_id"] = e.TaskId;
        if (e.Attempt is not null) data["attempt"] = e.Attempt;
        if (e.Detail is not null) data["detail"] = e.Detail;
        if (e.Run is { } run)
        {
            data["state"] = run.State;
            data["logical_date"] = Instant(run.LogicalDate);
            data["started_at"] = run.StartedAt is null ? null : Instant(run.StartedAt);
            data["finished_at"] = run.FinishedAt is null ? null : Instant(run.FinishedAt);
            data["failed_tasks"] = new JsonArray(run.FailedTasks.Select(t => (JsonNode)t).ToArray());
        }
        if (e.Monitor is { } m)
        {
            data["monitor"] = m.Name;
            data["state"] = m.State;
        }
        if (link is not null) data["link"] = link;
        return data;
    }
}
