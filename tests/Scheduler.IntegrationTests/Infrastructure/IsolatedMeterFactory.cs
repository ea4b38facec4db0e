using System.Diagnostics.Metrics;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// Meters under names of their own, for a second server in the test process. A metrics
/// provider listens to every meter of the names it was given, process-wide: without this the
/// fixture's exporter would also take an extra server's ASP.NET Core and scheduler meters, and
/// lose those series altogether once the extra server is disposed.
/// </summary>
public sealed class IsolatedMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions("isolated." + options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        lock (_meters)
            _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
            foreach (var meter in _meters)
                meter.Dispose();
    }
}
