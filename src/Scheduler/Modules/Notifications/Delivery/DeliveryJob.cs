using Hangfire;
using Mediator;
using Npgsql;
using Scheduler.Infrastructure.Telemetry;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Notifications.Channels;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Microsoft.Extensions.Options;

namespace Scheduler.Modules.Notifications.Delivery;

internal sealed class NotificationOptions
{
    /// <summary>The server's address as people reach it; links in messages point there.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// Waits between attempts of a failed delivery; attempts = delays + 1. Empty means the
    /// defaults (10 s, 1 min, 5 min, 30 min, 2 h): no initializer, because the configuration
    /// binder appends to an initialized array instead of replacing it.
    /// </summary>
    public TimeSpan[] RetryDelays { get; set; } = [];

    public IReadOnlyList<TimeSpan> Delays => RetryDelays.Length > 0
        ? RetryDelays
        : [TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2)];

    /// <summary>How long one send may take (HTTP and SMTP).</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The dispatcher's fallback poll when no NOTIFY arrives. Monitor deadlines and digests
    /// do not depend on it: the dispatcher sleeps until the earliest of them.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often Hangfire's delayed-job and recurring-job schedulers poll. Neither has work
    /// here (the dispatcher enqueues delivery retries itself when due), so they poll rarely:
    /// at 15 s they cost ~0.8 statements/s at idle.
    /// </summary>
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A pending delivery not attempted this long after it was due is handed to a new job
    /// (its job died with a killed process). A duplicate job is harmless: it finds the row
    /// locked or done.
    /// </summary>
    public TimeSpan OrphanAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Hangfire workers per replica that deliver messages.</summary>
    public int DeliveryWorkers { get; set; } = 4;

    /// <summary>Run the Hangfire server (deliveries) in this replica.</summary>
    public bool RunDeliveryServer { get; set; } = true;
}

/// <summary>
/// The Hangfire job that delivers one message to one channel. It holds the delivery row's
/// lock while it sends (a duplicate job finds it locked or done and leaves), records each
/// attempt, and sets its next attempt's time with the configured backoff (the dispatcher
/// enqueues it then); after the last attempt the delivery is 'failed'. Hangfire's automatic retry is off: the attempts are ours.
/// </summary>
internal sealed class DeliveryJob(NpgsqlDataSource dataSource, ChannelStore channels, ChannelSender sender, ISender mediator,
    IOptions<NotificationOptions> options, TimeProvider clock, SchedulerMetrics metrics, ILogger<DeliveryJob> logger)
{
    public const string Queue = "notifications";

    public static string Enqueue(IBackgroundJobClient jobs, long deliveryId) =>
        jobs.Enqueue<DeliveryJob>(Queue, j => j.RunAsync(deliveryId, CancellationToken.None));

    [AutomaticRetry(Attempts = 0)]
    [Queue(Queue)]
    public async Task RunAsync(long deliveryId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        long eventId, channelId;
        int attempts;
        DateTimeOffset? notBefore;
        // The row lock is waited for briefly, not skipped: the dispatcher records this job's
        // id on the row right after enqueueing it (a lock of milliseconds), and skipping that
        // lock left the delivery to the orphan sweep a minute later. A lock held longer is
        // another job sending this delivery: this one is a duplicate and leaves.
        await using (var cmd = new NpgsqlCommand("set local lock_timeout = '2s'", connection, tx))
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        await using (var cmd = new NpgsqlCommand("""
            select event_id, channel_id, attempts, case when next_attempt_at > now() + interval '1 second' then next_attempt_at end
            from notifications.deliveries where id = @id and status = 'pending'
            for update
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("id", deliveryId);
            try
            {
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                if (!await reader.ReadAsync(cancellationToken))
                    return; // delivered or failed for good
                (eventId, channelId, attempts) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2));
                notBefore = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                return; // another job is sending it
            }
        }
        if (notBefore is not null)
            return; // early: a duplicate job; the dispatcher enqueues the retry when it is due
        // Everything that can fail for this delivery, reading the channel's stored settings
        // included, is inside the counted attempt: a channel whose secret no longer decrypts
        // or whose settings no longer parse ends 'failed' after the configured attempts,
        // instead of failing the job before its attempt is recorded (which left the row to
        // the orphan sweep, once a minute, forever). The savepoint keeps the transaction
        // usable for that record when a statement of the attempt failed.
        attempts++;
        string? error = null;
        string? reference = null;
        var channelType = "unknown";
        await tx.SaveAsync("attempt", cancellationToken);
        try
        {
            var row = await channels.GetAsync(channelId, cancellationToken);
            if (row is null)
                return; // the channel was deleted; its deliveries went with it
            channelType = row.Type;
            var channel = channels.ToConfig(row);
            var message = await BuildAsync(connection, tx, eventId, channelId, cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.Value.SendTimeout);
            reference = await sender.SendAsync(channel, message, timeout.Token, deliveryId);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await tx.RollbackAsync("attempt", cancellationToken);
            // Cleaned: a receiver's answer quoted in the error may hold what PostgreSQL text
            // refuses, and a failing write of the error would undo the attempt's record.
            error = PostgresText.Clean(ChannelSender.Describe(e));
            logger.LogWarning("Delivery {DeliveryId} to channel {ChannelId} failed (attempt {Attempt}): {Error}", deliveryId, channelId, attempts, error);
        }

        var delays = options.Value.Delays;
        var retryAt = error is not null && attempts <= delays.Count ? clock.GetUtcNow() + delays[attempts - 1] : (DateTimeOffset?)null;
        await using (var cmd = new NpgsqlCommand("""
            update notifications.deliveries set attempts = @attempts, last_error = @error, next_attempt_at = @next,
                status = case when @error is null then 'delivered' when @next is null then 'failed' else 'pending' end,
                delivered_at = case when @error is null then now() end,
                job_id = case when @next is null then job_id end
            where id = @id
            """, connection, tx))
        {
            cmd.Parameters.AddWithValue("id", deliveryId);
            cmd.Parameters.AddWithValue("attempts", attempts);
            cmd.Parameters.Add(new NpgsqlParameter("error", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)error ?? DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter("next", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)retryAt ?? DBNull.Value });
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        if (reference is not null)
        {
            await using var cmd = new NpgsqlCommand("update notifications.channels set digest_message_ref = @ref where id = @id", connection, tx);
            cmd.Parameters.AddWithValue("ref", PostgresText.Clean(reference));
            cmd.Parameters.AddWithValue("id", channelId);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        // A retry is left to the dispatchers (no job, next_attempt_at set): they sleep until
        // the earliest one and enqueue it when due, so it is on time without Hangfire's
        // delayed-job scheduler polling for it. The NOTIFY makes them recompute that time.
        if (retryAt is not null)
            await NotificationOutbox.TimesChangedAsync(connection, tx, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        metrics.Delivery(channelType, error is null ? "delivered" : retryAt is null ? "failed" : "retrying");
    }

    private static async Task<string?> ChannelTeamAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long channelId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select team from notifications.channels where id = @id", connection, tx);
        cmd.Parameters.AddWithValue("id", channelId);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    private static async Task<HashSet<string>> TeamMonitorsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string team, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select name from notifications.monitors where team = @team", connection, tx);
        cmd.Parameters.AddWithValue("team", team);
        var names = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            names.Add(reader.GetString(0));
        return names;
    }

    private async Task<NotificationMessage> BuildAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long eventId, long channelId, CancellationToken ct)
    {
        EventFacts facts;
        long? monitorId;
        await using (var cmd = new NpgsqlCommand("select kind, occurred_at, dag_name, run_id, task_id, attempt, detail, monitor_id from notifications.events where id = @id", connection, tx))
        {
            cmd.Parameters.AddWithValue("id", eventId);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                throw new ChannelException($"Event {eventId} is gone.");
            facts = new EventFacts(eventId, reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), null, null);
            monitorId = reader.IsDBNull(7) ? null : reader.GetInt64(7);
        }
        if (facts.Kind == NotificationEvents.Digest)
        {
            IReadOnlyList<LatestRun> dags = await mediator.Send(new GetLatestRuns(5_000), ct);
            IReadOnlyList<MonitorFacts> monitors = await Monitors.MonitorStore.AllFactsAsync(connection, tx, ct);
            // A team's channel reports its team's DAGs and monitors only (docs/operations.md, Teams).
            if (await ChannelTeamAsync(connection, tx, channelId, ct) is { } team)
            {
                var teams = await mediator.Send(new Scheduler.Modules.Dags.Contracts.GetDagTeams(dags.Select(d => d.DagName).ToList()), ct);
                dags = dags.Where(d => teams.GetValueOrDefault(d.DagName) == team).ToList();
                var ownMonitors = await TeamMonitorsAsync(connection, tx, team, ct);
                monitors = monitors.Where(m => ownMonitors.Contains(m.Name)).ToList();
            }
            return Messages.Digest(facts.OccurredAt, dags, monitors, options.Value.PublicUrl);
        }
        if (facts.RunId is { } runId)
            facts = facts with { Run = await mediator.Send(new GetRunFacts(runId), ct) };
        if (monitorId is { } id)
            facts = facts with { Monitor = await Monitors.MonitorStore.FactsAsync(connection, tx, id, ct) };
        return Messages.Build(facts, options.Value.PublicUrl);
    }
}
