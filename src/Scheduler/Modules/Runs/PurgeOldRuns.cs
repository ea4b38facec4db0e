using Mediator;
using Npgsql;
using Scheduler.Infrastructure.Database;

namespace Scheduler.Modules.Runs;

/// <summary>
/// Retention: deletes finished runs (with their task instances, attempts, logs and dead
/// letters) older than <c>Runs:RetentionDays</c> (default 90; 0 keeps everything), in
/// batches so no delete holds locks for long.
/// </summary>
internal static class PurgeOldRuns
{
    public sealed record Command : ICommand<int>;

    public sealed class Handler(NpgsqlDataSource dataSource, IConfiguration configuration, ILogger<Handler> logger) : ICommandHandler<Command, int>
    {
        public async ValueTask<int> Handle(Command command, CancellationToken cancellationToken)
        {
            var hours = configuration.GetValue("Events:RetentionHours", 24.0);
            var events = hours <= 0 ? 0 : await BatchedDelete.RunAsync(dataSource, """
                delete from runs.events where id = any(array(
                    select id from runs.events where at < now() - make_interval(secs => @seconds) limit @batch))
                """, new Dictionary<string, object> { ["seconds"] = hours * 3600 }, cancellationToken);
            if (events > 0)
                logger.LogInformation("Retention removed {Count} stream event(s) older than {Hours} hours", events, hours);
            var days = configuration.GetValue("Runs:RetentionDays", 90);
            if (days <= 0)
                return events;
            var total = await BatchedDelete.RunAsync(dataSource, """
                delete from runs.dag_runs where id = any(array(
                    select id from runs.dag_runs
                    where state in ('success', 'failed', 'cancelled') and finished_at < now() - make_interval(days => @days)
                    limit @batch))
                """, new Dictionary<string, object> { ["days"] = days }, cancellationToken);
            if (total > 0)
                logger.LogInformation("Retention removed {Count} run(s) finished more than {Days} days ago", total, days);
            return total + events;
        }
    }
}
