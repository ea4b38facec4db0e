using Mediator;
using Npgsql;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Telemetry;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The scheduler loop: creates due runs, requeues expired leases and due retries, stamps SLA
/// misses. One replica runs it at a time: the one holding a session advisory lock on a
/// connection of its own. The others wait for that lock inside PostgreSQL (one blocked
/// statement each, no polling). A leader that dies closes its connection and the lock passes
/// at once; a host that vanishes without closing it is cut off by the keepalive probes set on
/// that session (~25 s). The lock's connection also LISTENs, so a leader whose connection
/// breaks learns it at once and stops. Two leaders for a moment would still be harmless: runs
/// are unique per (DAG, logical date) and every requeue is a conditional update.
///
/// It sleeps until the earliest of: a DAG's next_run_at, a retry's due time, an SLA deadline,
/// a NOTIFY (a schedule moved earlier, tasks were queued) or the idle safety wake. While
/// tasks are queued or running, maintenance keeps its short period, so an expired lease is
/// requeued within <c>Scheduler:MaintenanceSeconds</c> of its expiry. Idle, the loop costs a
/// handful of statements per safety wake and nothing else.
/// </summary>
internal sealed class SchedulerLoop(IServiceScopeFactory scopes, IConfiguration configuration, TimeProvider clock, SchedulerMetrics metrics, ILogger<SchedulerLoop> logger) : BackgroundService
{
    // Two-key advisory locks in use: (1, dag) run starts, (2, 0) constrained claims, (3, 0) this,
    // (4, hash of an asset URI) asset event inserts (Assets/AssetEventLog).
    private const string LeaderLock = "select pg_advisory_lock(3, 0)";
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile bool _scheduleChanged;
    private volatile bool _queued;

    /// <summary>This process's lead, if any: at most one at a time (a new one waits for the old to end).</summary>
    private Task _leading = Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await new PostgresListener(OpenAsLeaderAsync, [ScheduleChannels.Changed, Channels.Queue], OnNotification, StartLeading, logger, time: clock)
            .RunAsync(stoppingToken);
        await _leading;
    }

    /// <summary>
    /// Opens the lock's own connection and returns it once this replica holds the lock (the
    /// statement blocks inside PostgreSQL until then).
    /// </summary>
    private async ValueTask<NpgsqlConnection> OpenAsLeaderAsync(CancellationToken ct)
    {
        await _leading;
        var connection = new NpgsqlConnection(LeaderConnectionString());
        try
        {
            await connection.OpenAsync(ct);
            await ExecuteAsync(connection, "set tcp_keepalives_idle = 10; set tcp_keepalives_interval = 5; set tcp_keepalives_count = 3", ct);
            await ExecuteAsync(connection, LeaderLock, ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Leads while the lock's connection listens; <paramref name="lost"/> fires when it stops, and leading stops with it.</summary>
    private Task StartLeading(NpgsqlConnection connection, CancellationToken lost)
    {
        logger.LogInformation("This replica now runs the scheduler loop");
        _leading = Task.Run(async () =>
        {
            metrics.Leading(true);
            try
            {
                await LeadAsync(lost);
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested)
            {
                logger.LogInformation("The scheduler loop's connection closed; this replica stops leading");
            }
            catch (Exception e)
            {
                // Not expected (an iteration's failure is caught inside): give the lock up so
                // that another replica, or this one once reconnected, leads.
                logger.LogError(e, "The scheduler loop stopped; giving up its lock");
                await connection.CloseAsync();
            }
            finally
            {
                metrics.Leading(false);
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Not pooled: closing it must end the session, and with it the lock.</summary>
    private string LeaderConnectionString() =>
        new NpgsqlConnectionStringBuilder(DatabaseSetup.ConnectionString(configuration))
        {
            ApplicationName = "scheduler-leader",
            Pooling = false,
            KeepAlive = 10,
        }.ConnectionString;

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private void OnNotification(NpgsqlNotificationEventArgs e)
    {
        if (e.Channel == ScheduleChannels.Changed)
            _scheduleChanged = true;
        else
            _queued = true;
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    private async Task LeadAsync(CancellationToken ct)
    {
        var maintenanceEvery = TimeSpan.FromSeconds(configuration.GetValue("Scheduler:MaintenanceSeconds", 2.0));
        var safetyEvery = TimeSpan.FromSeconds(configuration.GetValue("Scheduler:IdleWakeSeconds", 60.0));
        // A new leader redoes everything at once: it knows nothing of what happened before.
        DateTimeOffset nextDue = DateTimeOffset.MinValue, nextMaintenance = DateTimeOffset.MinValue, nextSafety = DateTimeOffset.MinValue;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var now = clock.GetUtcNow();
            if (now >= nextSafety)
            {
                // In case a NOTIFY was missed or a row was changed behind the triggers' back.
                (nextDue, nextMaintenance, nextSafety) = (now, now, now + safetyEvery);
            }
            if (_queued)
            {
                // Tasks were queued somewhere: leases will follow, so maintenance resumes its period.
                _queued = false;
                nextMaintenance = Earliest(nextMaintenance, now + maintenanceEvery);
            }
            try
            {
                if (_scheduleChanged || now >= nextDue)
                {
                    _scheduleChanged = false;
                    nextDue = await ScheduleAsync(now, ct);
                }
                if (now >= nextMaintenance)
                    nextMaintenance = await MaintainAsync(now, maintenanceEvery, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Scheduler loop iteration failed; retrying at the next second");
                _scheduleChanged = true;
                nextMaintenance = Earliest(nextMaintenance, NextSecond(now));
                nextDue = Earliest(nextDue, NextSecond(now));
            }
            var delay = Earliest(nextDue, Earliest(nextMaintenance, nextSafety)) - clock.GetUtcNow();
            if (delay > TimeSpan.Zero)
                await _wake.WaitAsync(delay, ct);
        }
    }

    /// <summary>Creates the due runs and the asset runs whose assets all have new events; returns when the next schedule is due.</summary>
    private async Task<DateTimeOffset> ScheduleAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var sender = scope.ServiceProvider.GetRequiredService<ISender>();
        await sender.Send(new ScheduleDueRuns.Command(), ct);
        await sender.Send(new Assets.ScheduleAssetRuns.Command(), ct);
        var next = await sender.Send(new GetNextRunAt(), ct);
        if (next is null)
            return DateTimeOffset.MaxValue;
        // Woken just after the due instant, so a per-second schedule's due second is inside
        // the scanned window. A schedule still due after the scan (a DAG whose definition
        // cannot be read) is retried each second, not in a busy loop.
        var wake = next.Value + TimeSpan.FromMilliseconds(2);
        return wake > now ? wake : NextSecond(now);
    }

    /// <summary>Requeues expired leases and due retries, wakes parked waits, stamps SLA misses, fails runs past their timeout; returns when to look again.</summary>
    private async Task<DateTimeOffset> MaintainAsync(DateTimeOffset now, TimeSpan every, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ISender>().Send(new RunQueueMaintenance(), ct);
        var deadlines = await scope.ServiceProvider.GetRequiredService<QueueMaintenance>().QueueDeadlinesAsync(ct);
        var next = deadlines.Active ? now + every : DateTimeOffset.MaxValue;
        next = Earliest(next, deadlines.NextWake ?? DateTimeOffset.MaxValue);
        return Earliest(next, Earliest(deadlines.NextRetry ?? DateTimeOffset.MaxValue, deadlines.NextSla ?? DateTimeOffset.MaxValue));
    }

    private static DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset NextSecond(DateTimeOffset now) =>
        new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(1).AddMilliseconds(5);
}
