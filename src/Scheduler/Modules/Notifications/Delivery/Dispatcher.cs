using System.Collections.Concurrent;
using Hangfire;
using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Notifications.Monitors;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Notifications.Delivery;

/// <summary>
/// Turns outbox events into deliveries, on every replica side by side (SKIP LOCKED): for each
/// event, the channels its rules name (the DAG's own, the global ones, a monitor's, a digest's),
/// one delivery row per channel (unique per event and channel: the deduplication), then one
/// Hangfire job per delivery. Woken by NOTIFY from the transaction that wrote the event, with a
/// slow poll as a fallback. The same loop checks monitor deadlines and digest times, and
/// re-enqueues deliveries whose job was lost with a process.
/// </summary>
internal sealed class Dispatcher(NpgsqlDataSource dataSource, Channels.ChannelStore channels, IServiceScopeFactory scopes, IBackgroundJobClient jobs,
    IOptions<NotificationOptions> options, TimeProvider clock, ILogger<Dispatcher> logger) : BackgroundService
{
    private const int Batch = 200;
    private readonly ConcurrentDictionary<(long, int), IReadOnlyList<NotificationRulePlan>> _dagRules = new();
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>A monitor's deadline or a digest time was set: recompute when the timed work is due.</summary>
    private volatile bool _timesChanged = true;

    /// <summary>UTC ticks of when to wake Hangfire's delivery workers once more after an enqueue (see <see cref="KickSoon"/>).</summary>
    private long _kickAt = DateTimeOffset.MaxValue.UtcTicks;
    private DateTimeOffset KickAt => new(Interlocked.Read(ref _kickAt), TimeSpan.Zero);
    private static readonly TimeSpan KickAfter = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = ListenAsync(stoppingToken);
        // Idle, the loop costs one statement per PollInterval: it sleeps until the earliest
        // monitor deadline, digest time or overdue delivery, or until a NOTIFY (an event, or
        // a changed deadline) wakes it.
        var nextTimed = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.PollInterval;
            try
            {
                if (clock.GetUtcNow() >= KickAt)
                    await KickDeliveryWorkersAsync(stoppingToken);
                int taken;
                while ((taken = await DispatchAsync(stoppingToken)) > 0)
                {
                    _timesChanged = true; // new deliveries: their orphan deadline counts
                    if (taken < Batch)
                        break;
                }
                if (_timesChanged || clock.GetUtcNow() >= nextTimed)
                {
                    _timesChanged = false;
                    await MonitorChecks.CheckDeadlinesAsync(dataSource, clock, stoppingToken);
                    await DigestsDueAsync(stoppingToken);
                    await RetriesDueAsync(stoppingToken);
                    await SweepAsync(stoppingToken);
                    nextTimed = await NextTimedWorkAsync(stoppingToken) ?? DateTimeOffset.MaxValue;
                }
                var untilTimed = (nextTimed < KickAt ? nextTimed : KickAt) - clock.GetUtcNow();
                if (untilTimed < wait)
                    wait = untilTimed < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : untilTimed;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Notification dispatch failed; retrying shortly");
                (wait, _timesChanged) = (TimeSpan.FromSeconds(2), true);
            }
            try
            {
                // The fallback poll (no NOTIFY for PollInterval) redoes everything, in case one was lost.
                if (!await _wake.WaitAsync(wait, stoppingToken) && wait >= options.Value.PollInterval)
                    _timesChanged = true;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Hangfire's delivery workers wait for Hangfire.PostgreSql's NOTIFY (long polling); one
    /// that lands while no worker listens is only found by their queue poll
    /// (<c>QueuePollInterval</c>, 30 s, kept long because each worker's poll is a transaction).
    /// So every enqueue here, or through the API's retry, is followed by a second wake-up
    /// <see cref="KickAfter"/> later: a lost one then costs ~2 s, not the poll.
    /// </summary>
    public void KickSoon()
    {
        ScheduleKick();
        _wake.Release();
    }

    private void ScheduleKick()
    {
        var at = (clock.GetUtcNow() + KickAfter).UtcTicks;
        long seen;
        while (at < (seen = Interlocked.Read(ref _kickAt)) && Interlocked.CompareExchange(ref _kickAt, at, seen) != seen)
        {
        }
    }

    /// <summary>'new_job' is the channel Hangfire.PostgreSql (1.21) listens on: were it renamed, this wakes nobody and the poll still bounds the wait.</summary>
    private async Task KickDeliveryWorkersAsync(CancellationToken ct)
    {
        Interlocked.Exchange(ref _kickAt, DateTimeOffset.MaxValue.UtcTicks);
        await using var cmd = dataSource.CreateCommand("notify new_job");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The earliest moment timed work is due: a monitor deadline, a digest, a delivery retry, an orphaned delivery.</summary>
    private async Task<DateTimeOffset?> NextTimedWorkAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select least(
                (select min(deadline_at) from notifications.monitors where deadline_at is not null and not paused),
                (select min(digest_next_at) from notifications.channels where digest_next_at is not null),
                (select min(next_attempt_at) from notifications.deliveries where status = 'pending' and job_id is null),
                (select min(coalesce(next_attempt_at, created_at)) from notifications.deliveries where status = 'pending') + @orphan)
            """);
        cmd.Parameters.AddWithValue("orphan", options.Value.OrphanAfter);
        return await cmd.ExecuteScalarAsync(ct) is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    /// <summary>
    /// Woken by every outbox NOTIFY; after each (re)connect too, since a NOTIFY sent while no
    /// connection listened is gone and the pass it would have started is due now.
    /// </summary>
    private Task ListenAsync(CancellationToken ct) =>
        new PostgresListener(dataSource.OpenConnectionAsync, [NotificationOutbox.WakeChannel],
            e =>
            {
                if (e.Payload == NotificationOutbox.TimesChanged)
                    _timesChanged = true;
                _wake.Release();
            },
            (_, _) =>
            {
                _timesChanged = true;
                _wake.Release();
                return Task.CompletedTask;
            },
            logger, time: clock).RunAsync(ct);

    private sealed record EventRow(long Id, string Kind, string? DagName, long? RunId, long? MonitorId, long? ChannelId);

    /// <summary>One batch of events to deliveries; returns how many events it took.</summary>
    public async Task<int> DispatchAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var events = new List<EventRow>();
        await using (var cmd = new NpgsqlCommand($"""
            select id, kind, dag_name, run_id, monitor_id, channel_id from notifications.events
            where dispatched_at is null order by id limit {Batch} for update skip locked
            """, connection, tx))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                events.Add(new EventRow(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt64(5)));
        }
        if (events.Count == 0)
            return 0;

        var global = new List<(string[] Events, string Channel)>();
        await using (var cmd = new NpgsqlCommand("select events, channel from notifications.global_rules order by position", connection, tx))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                global.Add((reader.GetFieldValue<string[]>(0), reader.GetString(1)));
        }

        await using var scope = scopes.CreateAsyncScope();
        var sender = scope.ServiceProvider.GetRequiredService<ISender>();
        var wanted = new List<(long EventId, string? Channel, long? ChannelId)>();
        foreach (var e in events)
        {
            if (e.ChannelId is { } direct)
            {
                wanted.Add((e.Id, null, direct));
                continue;
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            if (e.MonitorId is { } monitorId)
                names.UnionWith(await MonitorStore.ChannelsAsync(connection, tx, monitorId, ct));
            else
            {
                names.UnionWith(global.Where(g => g.Events.Contains(e.Kind)).Select(g => g.Channel));
                if (e.RunId is { } runId)
                    names.UnionWith((await DagRulesAsync(sender, runId, ct)).Where(r => r.On.Contains(e.Kind)).Select(r => r.Channel));
            }
            wanted.AddRange(names.Select(n => (e.Id, (string?)n, (long?)null)));
        }

        var named = wanted.Where(w => w.Channel is not null).Select(w => w.Channel!).Distinct().ToArray();
        var ids = await channels.IdsAsync(named, ct);
        foreach (var missing in named.Where(n => !ids.ContainsKey(n)))
            logger.LogWarning("A notification rule names channel '{Channel}', which does not exist; its messages are dropped", missing);
        var rows = wanted
            .Select(w => (w.EventId, ChannelId: w.ChannelId ?? (w.Channel is not null && ids.TryGetValue(w.Channel, out var id) ? id : (long?)null)))
            .Where(w => w.ChannelId is not null).Distinct().ToList();

        var created = new List<long>();
        if (rows.Count > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                insert into notifications.deliveries (event_id, channel_id, status, job_id)
                select e, c, 'pending', '' from unnest(@events, @channels) as x(e, c)
                on conflict (event_id, channel_id) do nothing
                returning id
                """, connection, tx);
            cmd.Parameters.AddWithValue("events", rows.Select(r => r.EventId).ToArray());
            cmd.Parameters.AddWithValue("channels", rows.Select(r => r.ChannelId!.Value).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                created.Add(reader.GetInt64(0));
        }
        await using (var cmd = new NpgsqlCommand("update notifications.events set dispatched_at = now() where id = any(@ids)", connection, tx))
        {
            cmd.Parameters.AddWithValue("ids", events.Select(e => e.Id).ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        await EnqueueAsync(created, ct);
        return events.Count;
    }

    private async Task<IReadOnlyList<NotificationRulePlan>> DagRulesAsync(ISender sender, long runId, CancellationToken ct)
    {
        if (await sender.Send(new GetRunFacts(runId), ct) is not { } run)
            return [];
        if (_dagRules.TryGetValue((run.DagId, run.DagVersion), out var rules))
            return rules;
        rules = (await sender.Send(new GetDagPlanVersion(run.DagId, run.DagVersion), ct))?.Notifications ?? [];
        if (_dagRules.Count > 10_000)
            _dagRules.Clear();
        _dagRules[(run.DagId, run.DagVersion)] = rules;
        return rules;
    }

    /// <summary>
    /// Hangfire jobs for deliveries whose job id is '' (being enqueued); a crash before this is
    /// covered by <see cref="SweepAsync"/>. The id is recorded only over that '': the job may
    /// already have run and failed, leaving null (waiting for its retry), which must stay.
    /// </summary>
    private async Task EnqueueAsync(IReadOnlyList<long> deliveries, CancellationToken ct)
    {
        if (deliveries.Count == 0)
            return;
        var jobIds = deliveries.Select(d => DeliveryJob.Enqueue(jobs, d)).ToArray();
        ScheduleKick();
        await using var cmd = dataSource.CreateCommand("update notifications.deliveries d set job_id = x.j from unnest(@ids, @jobs) as x(i, j) where d.id = x.i and d.job_id = ''");
        cmd.Parameters.AddWithValue("ids", deliveries.ToArray());
        cmd.Parameters.AddWithValue("jobs", jobIds);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Pending deliveries nobody will run: never enqueued (the process died after its commit),
    /// killed mid-send, or overdue past their retry time (it died between an attempt and
    /// scheduling the next): due longer than OrphanAfter ago and not attempted since.
    /// </summary>
    /// <summary>
    /// Enqueues the delivery retries that came due (a failed attempt leaves its delivery
    /// pending with a null job id). Taking them is one conditional update, so two replicas
    /// never both enqueue one; a crash before the job exists leaves the '' of a job being
    /// enqueued, which the orphan sweep repairs.
    /// </summary>
    private async Task RetriesDueAsync(CancellationToken ct)
    {
        var due = new List<long>();
        await using (var cmd = dataSource.CreateCommand("""
            update notifications.deliveries set job_id = ''
            where id in (select id from notifications.deliveries
                         where status = 'pending' and job_id is null and next_attempt_at <= now()
                         order by id limit 500 for update skip locked)
            returning id
            """))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                due.Add(reader.GetInt64(0));
        }
        await EnqueueAsync(due, ct);
    }

    private async Task SweepAsync(CancellationToken ct)
    {
        var orphans = new List<long>();
        await using (var cmd = dataSource.CreateCommand("""
            select id from notifications.deliveries
            where status = 'pending' and coalesce(next_attempt_at, created_at) < now() - @after
            order by id limit 500
            """))
        {
            cmd.Parameters.AddWithValue("after", options.Value.OrphanAfter);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                orphans.Add(reader.GetInt64(0));
        }
        if (orphans.Count == 0)
            return;
        logger.LogInformation("Re-enqueueing {Count} notification deliveries without a live job", orphans.Count);
        // Due again from now, so the next sweep waits OrphanAfter for this job before another.
        await using (var cmd = dataSource.CreateCommand("update notifications.deliveries set next_attempt_at = now(), job_id = '' where id = any(@ids)"))
        {
            cmd.Parameters.AddWithValue("ids", orphans.ToArray());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await EnqueueAsync(orphans, ct);
    }

    /// <summary>Channels whose digest time came: one digest event each, and the next time.</summary>
    private async Task DigestsDueAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var due = new List<(long Id, string Name, string Cron, string Zone, DateTimeOffset At)>();
        await using (var cmd = new NpgsqlCommand("""
            select id, name, digest_cron, digest_timezone, digest_next_at from notifications.channels
            where digest_next_at <= now() order by id limit 100 for update skip locked
            """, connection, tx))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                due.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }
        if (due.Count == 0)
            return;
        var now = clock.GetUtcNow();
        foreach (var d in due)
        {
            DateTimeOffset? next = null;
            if (TimeZones.TryFind(d.Zone, out var zone) && CronSchedule.TryParse(d.Cron, zone, out var schedule, out _))
                next = schedule!.Next(now);
            await using (var cmd = new NpgsqlCommand("update notifications.channels set digest_next_at = @next where id = @id", connection, tx))
            {
                cmd.Parameters.AddWithValue("next", (object?)next ?? DBNull.Value);
                cmd.Parameters.AddWithValue("id", d.Id);
                await cmd.ExecuteNonQueryAsync(ct);
            }
        }
        await NotificationOutbox.WriteAsync(connection, tx,
            due.Select(d => new OutboxEvent(NotificationEvents.Digest, $"digest:{d.Id}:{d.At.UtcTicks}", null, null, ChannelId: d.Id)).ToList(), ct);
        await tx.CommitAsync(ct);
    }
}
