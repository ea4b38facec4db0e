using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Scheduler.Modules.Notifications.Delivery;

/// <summary>
/// The Hangfire side of deliveries: a job per delivery, the second wake-up of Hangfire's
/// workers after each enqueue, retries that came due and deliveries whose job was lost.
/// </summary>
internal sealed class DeliveryEnqueuer(NpgsqlDataSource dataSource, IBackgroundJobClient jobs, IOptions<NotificationOptions> options, TimeProvider clock, ILogger<DeliveryEnqueuer> logger)
{
    private static readonly TimeSpan KickAfter = TimeSpan.FromSeconds(2);

    /// <summary>UTC ticks of when to wake Hangfire's delivery workers once more after an enqueue.</summary>
    private long _kickAt = DateTimeOffset.MaxValue.UtcTicks;

    public DateTimeOffset KickAt => new(Interlocked.Read(ref _kickAt), TimeSpan.Zero);

    /// <summary>
    /// Hangfire's delivery workers wait for Hangfire.PostgreSql's NOTIFY (long polling); one
    /// that lands while no worker listens is only found by their queue poll
    /// (<c>QueuePollInterval</c>, 30 s, kept long because each worker's poll is a transaction).
    /// So every enqueue here, or through the API's retry, is followed by a second wake-up
    /// <see cref="KickAfter"/> later: a lost one then costs ~2 s, not the poll.
    /// </summary>
    public void ScheduleKick()
    {
        var at = (clock.GetUtcNow() + KickAfter).UtcTicks;
        long seen;
        while (at < (seen = Interlocked.Read(ref _kickAt)) && Interlocked.CompareExchange(ref _kickAt, at, seen) != seen)
        {
        }
    }

    /// <summary>'new_job' is the channel Hangfire.PostgreSql (1.21) listens on: were it renamed, this wakes nobody and the poll still bounds the wait.</summary>
    public async Task KickDeliveryWorkersAsync(CancellationToken ct)
    {
        Interlocked.Exchange(ref _kickAt, DateTimeOffset.MaxValue.UtcTicks);
        await using var cmd = dataSource.CreateCommand("notify new_job");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Hangfire jobs for deliveries whose job id is '' (being enqueued); a crash before this is
    /// covered by <see cref="SweepAsync"/>. The id is recorded only over that '': the job may
    /// already have run and failed, leaving null (waiting for its retry), which must stay.
    /// </summary>
    public async Task EnqueueAsync(IReadOnlyList<long> deliveries, CancellationToken ct)
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
    /// Enqueues the delivery retries that came due (a failed attempt leaves its delivery
    /// pending with a null job id). Taking them is one conditional update, so two replicas
    /// never both enqueue one; a crash before the job exists leaves the '' of a job being
    /// enqueued, which the orphan sweep repairs.
    /// </summary>
    public async Task RetriesDueAsync(CancellationToken ct)
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

    /// <summary>
    /// Pending deliveries nobody will run: never enqueued (the process died after its commit),
    /// killed mid-send, or overdue past their retry time (it died between an attempt and
    /// scheduling the next): due longer than OrphanAfter ago and not attempted since.
    /// </summary>
    public async Task SweepAsync(CancellationToken ct)
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
}
