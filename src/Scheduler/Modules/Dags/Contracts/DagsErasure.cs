using Npgsql;
using Scheduler.Infrastructure.Database;

namespace Scheduler.Modules.Dags.Contracts;

/// <summary>Erasure of a person (Access's EraseUser): their name where the module stores who did something, in the caller's transaction.</summary>
public static class DagsErasure
{
    /// <summary>Replaces <paramref name="name"/> by <paramref name="pseudonym"/> in the versions' <c>created_by</c>; returns the rows changed.</summary>
    public static Task<int> PseudonymiseAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string name, string pseudonym, CancellationToken ct) =>
        Pseudonyms.ReplaceAsync(connection, tx, "dags.dag_versions", "created_by", name, pseudonym, ct);
}
