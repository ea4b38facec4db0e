using Mediator;
using Npgsql;
using Scheduler.Modules.Workers.Contracts;

namespace Scheduler.Modules.Workers;

/// <summary>
/// Deletes worker nodes whose last heartbeat is older than <c>Workers:NodeRetentionHours</c>.
/// A live replica beats every few seconds and re-inserts its row on the next beat anyway; the
/// tasks of a dead one were requeued by the lease reaper long before. Few rows: one statement.
/// </summary>
internal sealed class PurgeDeadWorkersHandler(NpgsqlDataSource dataSource, IConfiguration configuration) : ICommandHandler<PurgeDeadWorkers, int>
{
    public async ValueTask<int> Handle(PurgeDeadWorkers command, CancellationToken cancellationToken)
    {
        var hours = configuration.GetValue("Workers:NodeRetentionHours", 24);
        if (hours <= 0)
            return 0;
        await using var cmd = dataSource.CreateCommand("delete from workers.nodes where heartbeat_at < now() - make_interval(hours => @hours)");
        cmd.Parameters.AddWithValue("hours", hours);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
