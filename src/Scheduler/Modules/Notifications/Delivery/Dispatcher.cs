using System.Collections.Concurrent;
using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Infrastructure.Database;
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
internal sealed class Dispatcher(NpgsqlDataSource dataSource, Channels.ChannelStore channels, IServiceScopeFactory scopes, DeliveryEnqueuer enqueuer,
    IOptions<NotificationOptions> options, TimeProvider clock, ILogger<Dispatcher> logger) : BackgroundService
{
    private const int Batch = 200;
    private readonly ConcurrentDictionary<(long, int), IReadOnlyList<NotificationRulePlan>> _dagRules = new();
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>A monitor's deadline or a digest time was set: recompute when the timed work is due.</summary>
    private volatile bool _timesChanged = true;


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
                if (clock.GetUtcNow() >= enqueuer.KickAt)
                    await enqueuer.KickDeliveryWorkersAsync(stoppingToken);
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
                    await Digests.DueAsync(dataSource, clock, stoppingToken);
                    await enqueuer.RetriesDueAsync(stoppingToken);
                    await enqueuer.SweepAsync(stoppingToken);
                    nextTimed = await NextTimedWorkAsync(stoppingToken) ?? DateTimeOffset.MaxValue;
                }
                var untilTimed = (nextTimed < enqueuer.KickAt ? nextTimed : enqueuer.KickAt) - clock.GetUtcNow();
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
    /// An enqueue elsewhere (the API's retry): Hangfire's workers get the second wake-up
    /// (<see cref="DeliveryEnqueuer.ScheduleKick"/>) and this loop wakes to send it.
    /// </summary>
    public void KickSoon()
    {
        enqueuer.ScheduleKick();
        _wake.Release();
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
        await enqueuer.EnqueueAsync(created, ct);
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

}
