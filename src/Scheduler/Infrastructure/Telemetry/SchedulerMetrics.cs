using System.Diagnostics.Metrics;

namespace Scheduler.Infrastructure.Telemetry;

/// <summary>
/// The scheduler's own instruments, on one Meter "Scheduler", recorded where the facts happen
/// (run creation, the completion's commit, the worker's attempt, the due scan, a delivery).
/// Recording is a few interlocked adds with the tags on the stack: no allocation and no
/// database round trip per task; with metrics off (no listener) it is close to free. The
/// names are the exposed Prometheus names less the exporter's suffixes: it appends
/// <c>_total</c> to counters and the unit (<c>s</c> -> <c>_seconds</c>) to histograms.
/// The <c>dag</c> tag is added only with <c>Metrics:PerDagLabels</c>: a label per DAG is
/// unbounded cardinality for Prometheus.
/// </summary>
internal sealed class SchedulerMetrics
{
    public const string MeterName = "Scheduler";

    // Seconds, from a noop's milliseconds to a day-long job.
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
    // Seconds of waiting, where the interesting part is well under a second.
    private static readonly double[] DelayBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private readonly Counter<long> _tasksFinished;
    private readonly Counter<long> _runsFinished;
    private readonly Counter<long> _runsCreated;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _taskDuration;
    private readonly Histogram<double> _startDelay;
    private readonly Histogram<double> _scheduleLag;
    private Func<(int Used, int Total)>? _slots;
    private int _leading;

    public SchedulerMetrics(IMeterFactory meters, IConfiguration configuration)
    {
        PerDagLabels = configuration.GetValue("Metrics:PerDagLabels", false);
        var meter = meters.Create(MeterName);
        _tasksFinished = meter.CreateCounter<long>("scheduler_tasks_finished", null,
            "Task instances that reached a final state, or up_for_retry (an attempt failed and will be retried)");
        _runsFinished = meter.CreateCounter<long>("scheduler_runs_finished", null, "Runs that reached a final state");
        _runsCreated = meter.CreateCounter<long>("scheduler_runs_created", null, "Runs created, by run type (scheduled, catchup, manual)");
        _deliveries = meter.CreateCounter<long>("scheduler_notification_deliveries", null,
            "Notification delivery attempts by outcome: delivered, retrying (failed, another attempt follows), failed (no attempt left)");
        _taskDuration = meter.CreateHistogram("scheduler_task_duration", "s", "Attempt run time on the worker (start to outcome)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _startDelay = meter.CreateHistogram("scheduler_task_start_delay", "s", "From a task instance becoming ready (queued) to its attempt starting",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DelayBuckets });
        _scheduleLag = meter.CreateHistogram("scheduler_schedule_lag", "s", "From a schedule's due time to its run being created",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DelayBuckets });
        meter.CreateObservableGauge("scheduler_worker_slots", ObserveSlots, null, "This replica's worker slots: used and free");
        meter.CreateObservableGauge("scheduler_leader", () => Volatile.Read(ref _leading), null,
            "1 while this replica runs the scheduler loop (holds its lock), else 0; summed over replicas it must be 1");
        if (!PerDagLabels)
            StartAtZero();
    }

    /// <summary>
    /// Every known label set starts at 0, so the first increment of a series counts in rate()
    /// and increase() (a series born at 1 looks to Prometheus like it always was 1). The values
    /// are the engine's task and run states, run types and channel types; a new one that is not
    /// listed here still counts, from its first increment on. With per-DAG labels the DAGs are
    /// not known in advance.
    /// </summary>
    private void StartAtZero()
    {
        foreach (var state in (string[])["success", "failed", "skipped", "upstream_failed", "cancelled", "up_for_retry"])
            _tasksFinished.Add(0, new KeyValuePair<string, object?>("state", state));
        foreach (var state in (string[])["success", "failed", "cancelled"])
            _runsFinished.Add(0, new KeyValuePair<string, object?>("state", state));
        foreach (var type in (string[])["scheduled", "catchup", "manual"])
            _runsCreated.Add(0, new KeyValuePair<string, object?>("run_type", type));
        foreach (var type in (string[])["slack", "teams", "email", "sms", "webhook"])
            foreach (var state in (string[])["delivered", "retrying", "failed"])
                _deliveries.Add(0, new("channel_type", type), new("state", state));
    }

    public bool PerDagLabels { get; }

    public void TaskFinished(string state, string dag)
    {
        if (PerDagLabels)
            _tasksFinished.Add(1, new("state", state), new("dag", dag));
        else
            _tasksFinished.Add(1, new KeyValuePair<string, object?>("state", state));
    }

    public void RunFinished(string state, string dag)
    {
        if (PerDagLabels)
            _runsFinished.Add(1, new("state", state), new("dag", dag));
        else
            _runsFinished.Add(1, new KeyValuePair<string, object?>("state", state));
    }

    public void RunsCreated(string runType, string dag, int count = 1)
    {
        if (PerDagLabels)
            _runsCreated.Add(count, new("run_type", runType), new("dag", dag));
        else
            _runsCreated.Add(count, new KeyValuePair<string, object?>("run_type", runType));
    }

    public void TaskDuration(TimeSpan duration, string dag) => Record(_taskDuration, duration.TotalSeconds, dag);

    public void TaskStartDelay(double seconds, string dag) => Record(_startDelay, Math.Max(seconds, 0), dag);

    public void ScheduleLag(TimeSpan lag) => _scheduleLag.Record(Math.Max(lag.TotalSeconds, 0));

    public void Delivery(string channelType, string state) =>
        _deliveries.Add(1, new("channel_type", channelType), new("state", state));

    /// <summary>The worker pool of this replica reports its slots; a replica without workers reports none.</summary>
    public void ObserveWorkerSlots(Func<(int Used, int Total)> slots) => _slots = slots;

    public void Leading(bool leading) => Volatile.Write(ref _leading, leading ? 1 : 0);

    private void Record(Histogram<double> histogram, double seconds, string dag)
    {
        if (PerDagLabels)
            histogram.Record(seconds, new KeyValuePair<string, object?>("dag", dag));
        else
            histogram.Record(seconds);
    }

    private IEnumerable<Measurement<int>> ObserveSlots()
    {
        if (_slots is not { } slots)
            return [];
        var (used, total) = slots();
        return [new(used, new KeyValuePair<string, object?>("state", "used")), new(Math.Max(total - used, 0), new KeyValuePair<string, object?>("state", "free"))];
    }
}
