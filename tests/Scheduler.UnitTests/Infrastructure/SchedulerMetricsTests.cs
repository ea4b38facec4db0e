using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Scheduler.Infrastructure.Telemetry;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class SchedulerMetricsTests
{
    private sealed class OneMeter : IMeterFactory
    {
        public Meter? Meter { get; private set; }

        public Meter Create(MeterOptions options) => Meter = new Meter(options);

        public void Dispose() => Meter?.Dispose();
    }

    private sealed record Recorded(string Instrument, double Value, Dictionary<string, object?> Tags);

    /// <summary>The metrics with the given settings, and what a listener on their meter (and only theirs) records.</summary>
    private static (SchedulerMetrics Metrics, List<Recorded> Recorded, IDisposable Listener) Create(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        var factory = new OneMeter();
        var recorded = new List<Recorded>();
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, factory.Meter))
                l.EnableMeasurementEvents(instrument);
        };
        void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
                copy[tag.Key] = tag.Value;
            lock (recorded)
                recorded.Add(new Recorded(i.Name, v, copy));
        }
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        listener.Start();
        var metrics = new SchedulerMetrics(factory, configuration);
        return (metrics, recorded, listener);
    }

    [Fact]
    public void Recording_HasNoDagLabel_ByDefault_AndStartsKnownCountersAtZero()
    {
        var (metrics, recorded, listener) = Create();
        using var _ = listener;
        // The listener starts before the metrics exist, as the meter provider does in the server.
        Assert.Contains(recorded, r => r.Instrument == "scheduler_tasks_finished" && r.Value == 0 && Equals(r.Tags["state"], "upstream_failed"));
        Assert.Contains(recorded, r => r.Instrument == "scheduler_notification_deliveries" && r.Value == 0 && Equals(r.Tags["channel_type"], "email") && Equals(r.Tags["state"], "retrying"));
        recorded.Clear();

        metrics.TaskFinished("success", "nightly");
        metrics.RunsCreated("manual", "nightly");
        metrics.TaskDuration(TimeSpan.FromSeconds(2), "nightly");
        metrics.TaskStartDelay(-0.5, "nightly");
        metrics.ScheduleLag(TimeSpan.FromMilliseconds(30));

        Assert.All(recorded, r => Assert.False(r.Tags.ContainsKey("dag")));
        Assert.Equal(2, recorded.Single(r => r.Instrument == "scheduler_task_duration").Value);
        // A clock step between two replicas' clocks never records a negative wait.
        Assert.Equal(0, recorded.Single(r => r.Instrument == "scheduler_task_start_delay").Value);
        Assert.Equal(0.03, recorded.Single(r => r.Instrument == "scheduler_schedule_lag").Value, 6);
    }

    [Fact]
    public void Recording_AddsTheDagLabel_WithPerDagLabels()
    {
        var (metrics, recorded, listener) = Create(("Metrics:PerDagLabels", "true"));
        using var _ = listener;
        // No zero series to start: the DAGs are not known in advance.
        Assert.Empty(recorded);

        metrics.TaskFinished("failed", "nightly");
        metrics.RunFinished("failed", "nightly");
        metrics.RunsCreated("scheduled", "nightly");
        metrics.TaskDuration(TimeSpan.FromSeconds(1), "nightly");

        Assert.Equal(4, recorded.Count);
        Assert.All(recorded, r => Assert.Equal("nightly", r.Tags["dag"]));
        Assert.Equal("failed", recorded.Single(r => r.Instrument == "scheduler_runs_finished").Tags["state"]);
    }

    [Fact]
    public void Gauges_ReportSlotsOnlyOnceAPoolObservesThem_AndLeadership()
    {
        var (metrics, recorded, listener) = Create();
        using var _ = listener;
        recorded.Clear();
        ((MeterListener)listener).RecordObservableInstruments();
        Assert.DoesNotContain(recorded, r => r.Instrument == "scheduler_worker_slots");
        Assert.Equal(0, recorded.Single(r => r.Instrument == "scheduler_leader").Value);

        recorded.Clear();
        metrics.ObserveWorkerSlots(() => (3, 8));
        metrics.Leading(true);
        ((MeterListener)listener).RecordObservableInstruments();
        Assert.Equal(3, recorded.Single(r => r.Instrument == "scheduler_worker_slots" && Equals(r.Tags["state"], "used")).Value);
        Assert.Equal(5, recorded.Single(r => r.Instrument == "scheduler_worker_slots" && Equals(r.Tags["state"], "free")).Value);
        Assert.Equal(1, recorded.Single(r => r.Instrument == "scheduler_leader").Value);
    }

    [Theory]
    [InlineData(null, "/metrics")]
    [InlineData("", "/metrics")]
    [InlineData("internal/metrics", "/internal/metrics")]
    [InlineData(" /prom ", "/prom")]
    public void Path_IsRootedAndDefaultsToMetrics(string? configured, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new KeyValuePair<string, string?>("Metrics:Path", configured)]).Build();
        Assert.Equal(expected, MetricsSetup.Path(configuration));
    }
}
