using System.Diagnostics;

namespace Scheduler.Infrastructure.Telemetry;

/// <summary>
/// The trace of a run: one trace id per run, chosen when the run is created (the caller's when
/// a trigger request carried a <c>traceparent</c>), stored with the run as a W3C traceparent
/// whose span is the run's creation; every attempt of every task is a span under it, on
/// whichever replica runs it. Without an OpenTelemetry listener (no exporter configured) the
/// same ids are still made and passed on (run JSON, <c>traceparent</c> of http tasks,
/// <c>TRACEPARENT</c> of shell tasks), so callers can correlate; nothing is recorded.
/// </summary>
internal static class RunTracing
{
    public const string SourceName = "Scheduler";
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts the span of a run's creation, under <paramref name="parent"/> when it is valid;
    /// null when nothing listens (the ids then come from <see cref="NewTraceParent"/>).
    /// </summary>
    public static Activity? StartRunCreation(string dagName, string runType, DateTimeOffset logicalDate, ActivityContext parent)
    {
        // Not made Activity.Current: a batch creates many runs, each a trace of its own, and
        // the creating transaction's statements must not land in the first run's trace.
        var previous = Activity.Current;
        var activity = Source.StartActivity($"run {dagName}", ActivityKind.Internal, parent,
            [new("scheduler.dag", dagName), new("scheduler.run_type", runType), new("scheduler.logical_date", logicalDate.ToString("O"))]);
        Activity.Current = previous;
        return activity;
    }

    /// <summary>A traceparent for a run nothing records: a fresh trace, or the parent's trace with a new span.</summary>
    public static string NewTraceParent(ActivityContext parent)
    {
        var trace = parent.TraceId == default ? ActivityTraceId.CreateRandom() : parent.TraceId;
        var flags = parent.TraceId == default ? ActivityTraceFlags.Recorded : parent.TraceFlags;
        return Format(trace, ActivitySpanId.CreateRandom(), flags);
    }

    public static string Format(ActivityTraceId trace, ActivitySpanId span, ActivityTraceFlags flags) =>
        $"00-{trace.ToHexString()}-{span.ToHexString()}-{(flags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";

    /// <summary>The trace id (32 hex digits) of a stored traceparent, or null.</summary>
    public static string? TraceId(string? traceParent) =>
        traceParent is { Length: 55 } ? traceParent.Substring(3, 32) : null;

    /// <summary>
    /// Starts the span of one attempt as the ambient activity, so HttpClient and Npgsql spans
    /// inside it are its children and http requests carry its traceparent. Recorded when a
    /// listener samples it; otherwise an unrecorded activity that still carries the ids.
    /// </summary>
    public static Activity StartAttempt(string? runTraceParent, string dagName, long runId, string taskId, int attempt, string taskType)
    {
        ActivityContext.TryParse(runTraceParent, null, isRemote: true, out var parent);
        var name = $"task {dagName}.{taskId}";
        var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
        if (activity is null)
        {
            activity = new Activity(name);
            if (parent.TraceId != default)
                activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
            activity.Start();
        }
        activity.SetTag("scheduler.dag", dagName);
        activity.SetTag("scheduler.run_id", runId);
        activity.SetTag("scheduler.task_id", taskId);
        activity.SetTag("scheduler.attempt", attempt);
        activity.SetTag("scheduler.task_type", taskType);
        return activity;
    }
}
