using Mediator;
using Npgsql;
using Scheduler.Infrastructure.Database;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Audit;

/// <summary>
/// Deletes audit entries older than <c>Audit:RetentionDays</c> (400; 0 keeps all), a batch of
/// <see cref="BatchedDelete.BatchSize"/> per statement, through <c>audit.purge_before</c>
/// (migration 0018): the only delete the append-only trigger lets through.
/// </summary>
internal sealed class PurgeAuditHistoryHandler(NpgsqlDataSource dataSource, IConfiguration configuration, TimeProvider clock, ILogger<PurgeAuditHistoryHandler> logger)
    : ICommandHandler<PurgeAuditHistory, int>
{
    public async ValueTask<int> Handle(PurgeAuditHistory command, CancellationToken cancellationToken)
    {
        var days = configuration.GetValue("Audit:RetentionDays", 400);
        if (days <= 0)
            return 0;
        var cutoff = clock.GetUtcNow().AddDays(-days);
        var total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await using var cmd = dataSource.CreateCommand("select audit.purge_before(@cutoff, @batch)");
            cmd.Parameters.AddWithValue("cutoff", cutoff);
            cmd.Parameters.AddWithValue("batch", BatchedDelete.BatchSize);
            var deleted = (int)(await cmd.ExecuteScalarAsync(cancellationToken))!;
            total += deleted;
            if (deleted < BatchedDelete.BatchSize)
                break;
        }
        if (total > 0)
            logger.LogInformation("Retention removed {Entries} audit entries older than {Days} days", total, days);
        return total;
    }
}
