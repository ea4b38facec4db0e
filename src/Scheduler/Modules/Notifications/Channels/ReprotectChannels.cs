using Mediator;
using Npgsql;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>Decrypts each channel's secrets with whichever key stored them and stores them again under the default key; the rows are locked meanwhile, so no save is lost.</summary>
internal sealed class ReprotectChannelsHandler(NpgsqlDataSource dataSource, ChannelStore store) : ICommandHandler<ReprotectChannelSecrets, int>
{
    public async ValueTask<int> Handle(ReprotectChannelSecrets command, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        var rows = new List<(long Id, string Secret)>();
        await using (var select = new NpgsqlCommand("select id, secret from notifications.channels where secret is not null order by id for update", connection, tx))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                rows.Add((reader.GetInt64(0), reader.GetString(1)));
        foreach (var (id, secret) in rows)
        {
            await using var update = new NpgsqlCommand("update notifications.channels set secret = @s where id = @id", connection, tx);
            update.Parameters.AddWithValue("s", store.Protect(store.Unprotect(secret)));
            update.Parameters.AddWithValue("id", id);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return rows.Count;
    }
}
