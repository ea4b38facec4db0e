using Npgsql;

namespace Scheduler.Infrastructure.Database;

/// <summary>
/// Retention deletes in batches: each statement removes at most <see cref="BatchSize"/> rows
/// in its own short transaction, so a large purge never holds its locks (or a long
/// transaction's worth of dead rows) for long, and the server's own writes go on in between.
/// </summary>
internal static class BatchedDelete
{
    public const int BatchSize = 1000;

    /// <summary>
    /// Runs <paramref name="sql"/> until it deletes fewer than a batch. It must delete at most
    /// <c>@batch</c> rows a time (<c>where id in (select id ... limit @batch)</c>); its other
    /// parameters come from <paramref name="parameters"/>. Returns the rows deleted.
    /// </summary>
    public static async Task<int> RunAsync(NpgsqlDataSource dataSource, string sql, IReadOnlyDictionary<string, object> parameters, CancellationToken cancellationToken)
    {
        var total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            await using var cmd = dataSource.CreateCommand(sql);
            foreach (var (name, value) in parameters)
                cmd.Parameters.AddWithValue(name, value);
            cmd.Parameters.AddWithValue("batch", BatchSize);
            var deleted = await cmd.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
            if (deleted < BatchSize)
                break;
        }
        return total;
    }
}
