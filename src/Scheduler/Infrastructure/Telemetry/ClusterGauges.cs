using System.Diagnostics.Metrics;
using Mediator;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Workers.Contracts;

namespace Scheduler.Infrastructure.Telemetry;

/// <summary>
/// The gauges that need the database: task instances by state and pool (the queue depth) and
/// workers alive. They describe the whole cluster, so every replica reports the same numbers
/// (aggregate them with max, not sum). They are read lazily, on a scrape, and at most once per
/// <c>Metrics:GaugeRefreshSeconds</c> (5 s) per replica: a scrape finding the last reading
/// older than that starts ONE refresh (two statements) and waits up to a second for it, else
/// it shows the previous reading and the refresh lands for the next scrape. Nobody scraping
/// costs nothing; a scrape every 15 s costs two statements per 15 s. A refresh that fails
/// (database unreachable) leaves an empty reading, tried again a period later: the series
/// vanish rather than show stale numbers as current, and absent() alerts see it.
/// </summary>
internal sealed class ClusterGauges
{
    private static readonly TimeSpan WaitForRefresh = TimeSpan.FromSeconds(1);

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _clock;
    private readonly ILogger<ClusterGauges> _logger;
    private readonly TimeSpan _period;
    private readonly Lock _lock = new();
    private Reading? _reading;
    private Task? _refreshing;

    /// <summary>Null figures: the refresh at <paramref name="At"/> failed.</summary>
    private sealed record Reading(DateTimeOffset At, IReadOnlyList<QueueDepth>? Depth, int? WorkersAlive);

    public ClusterGauges(IMeterFactory meters, IServiceScopeFactory scopes, TimeProvider clock, IConfiguration configuration, ILogger<ClusterGauges> logger)
    {
        _scopes = scopes;
        _clock = clock;
        _logger = logger;
        _period = TimeSpan.FromSeconds(Math.Max(configuration.GetValue("Metrics:GaugeRefreshSeconds", 5.0), 0.1));
        var meter = meters.Create(SchedulerMetrics.MeterName);
        meter.CreateObservableGauge("scheduler_task_instances", ObserveTasks, null,
            "Task instances queued, running, up_for_retry or waiting (a parked wait, no slot), by pool, in the whole cluster (every replica reports the same)");
        meter.CreateObservableGauge("scheduler_workers_alive", ObserveWorkers, null,
            "Worker nodes with a heartbeat within three heartbeat intervals, in the whole cluster (every replica reports the same)");
    }

    private IEnumerable<Measurement<int>> ObserveTasks()
    {
        if (Current()?.Depth is not { } depth)
            return [];
        return depth.Select(d => new Measurement<int>(d.Count, new KeyValuePair<string, object?>("state", d.State), new KeyValuePair<string, object?>("pool", d.Pool))).ToList();
    }

    private IEnumerable<Measurement<int>> ObserveWorkers() =>
        Current()?.WorkersAlive is { } alive ? [new Measurement<int>(alive)] : [];

    /// <summary>The reading for this scrape: the last one while fresh, else a new one (waited for briefly).</summary>
    private Reading? Current()
    {
        Task refreshing;
        lock (_lock)
        {
            if (_reading is { } fresh && _clock.GetUtcNow() - fresh.At < _period)
                return fresh;
            refreshing = _refreshing ??= Task.Run(RefreshAsync);
        }
        // The exporter collects synchronously; a slow database delays this scrape by at most
        // the wait, and the refresh goes on for the next one.
        refreshing.Wait(WaitForRefresh);
        lock (_lock)
            return _reading;
    }

    private async Task RefreshAsync()
    {
        var reading = new Reading(_clock.GetUtcNow(), null, null);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var sender = scope.ServiceProvider.GetRequiredService<ISender>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var depth = await sender.Send(new GetQueueDepth(), timeout.Token);
            var alive = await sender.Send(new CountAliveWorkers(), timeout.Token);
            reading = new Reading(_clock.GetUtcNow(), depth, alive);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Reading the queue depth and workers alive for the metrics failed; those gauges are left out until it works");
        }
        finally
        {
            lock (_lock)
            {
                _reading = reading;
                _refreshing = null;
            }
        }
    }
}
