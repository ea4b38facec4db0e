using Mediator;
using Npgsql;
using Scheduler.Infrastructure.Database;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications;

/// <summary>
/// Deletes notification history past its age, in batches (<see cref="BatchedDelete"/>):
/// events that occurred more than <c>Notifications:RetentionDays</c> (30) ago, with their
/// deliveries, once dispatched and with no delivery still pending (an event is never purged
/// from under a retry); monitor pings received more than <c>Notifications:PingRetentionDays</c>
/// (30) ago (a monitor's last ping times stay on the monitor). 0 keeps that family whole.
/// </summary>
internal sealed class PurgeNotificationHistoryHandler(NpgsqlDataSource dataSource, IConfiguration configuration, ILogger<PurgeNotificationHistoryHandler> logger)
    : ICommandHandler<PurgeNotificationHistory, int>
{
    public async ValueTask<int> Handle(PurgeNotificationHistory command, CancellationToken cancellationToken)
    {
        var eventDays = configuration.GetValue("Notifications:RetentionDays", 30);
        var pingDays = configuration.GetValue("Notifications:PingRetentionDays", 30);
        var events = eventDays <= 0 ? 0 : await BatchedDelete.RunAsync(dataSource, """
            delete from notifications.events where id = any(array(
                select e.id from notifications.events e
                where e.occurred_at < now() - make_interval(days => @days) and e.dispatched_at is not null
                  and not exists (select 1 from notifications.deliveries d where d.event_id = e.id and d.status = 'pending')
                order by e.occurred_at
                limit @batch))
            """, new Dictionary<string, object> { ["days"] = eventDays }, cancellationToken);
        var pings = pingDays <= 0 ? 0 : await BatchedDelete.RunAsync(dataSource, """
            delete from notifications.pings where id = any(array(
                select id from notifications.pings where received_at < now() - make_interval(days => @days)
                order by received_at
                limit @batch))
            """, new Dictionary<string, object> { ["days"] = pingDays }, cancellationToken);
        if (events + pings > 0)
            logger.LogInformation("Retention removed {Events} notification event(s) older than {EventDays} days with their deliveries, and {Pings} monitor ping(s) older than {PingDays} days",
                events, eventDays, pings, pingDays);
        return events + pings;
    }
}
