using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Modules.Workers.Contracts;
using Scheduler.Modules.Workers.Pool;

namespace Scheduler.Modules.Workers;

/// <summary>One count over the nodes table (a row per replica, so a handful of rows).</summary>
internal sealed class AliveWorkers(NpgsqlDataSource dataSource, IOptions<WorkerOptions> options) : IQueryHandler<CountAliveWorkers, int>
{
    public async ValueTask<int> Handle(CountAliveWorkers query, CancellationToken cancellationToken)
    {
        await using var cmd = dataSource.CreateCommand("select count(*)::int from workers.nodes where heartbeat_at > now() - @alive");
        cmd.Parameters.AddWithValue("alive", options.Value.AliveWindow);
        return (int)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }
}
