using Npgsql;

namespace Scheduler.Infrastructure.Database;

/// <summary>Erasure's rewrite of a "who did it" column: one statement in the caller's transaction.</summary>
internal static class Pseudonyms
{
    /// <summary>Sets <paramref name="column"/> of <paramref name="table"/> (both fixed names, never input) to <paramref name="pseudonym"/> where it is <paramref name="name"/>; returns the rows changed.</summary>
    public static async Task<int> ReplaceAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string table, string column, string name, string pseudonym, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"update {table} set {column} = @p where {column} = @n", connection, tx);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("p", pseudonym);
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}
