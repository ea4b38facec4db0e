using Npgsql;
using Scheduler.Infrastructure.Database;

namespace Scheduler.Modules.Runs.Contracts;

/// <summary>Erasure of a person (Access's EraseUser): their name where the module stores who did something, in the caller's transaction.</summary>
public static class RunsErasure
{
    /// <summary>Replaces <paramref name="name"/> by <paramref name="pseudonym"/> in the runs' <c>created_by</c> (who triggered them); returns the rows changed.</summary>
    public static Task<int> PseudonymiseAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string name, string pseudonym, CancellationToken ct) =>
        Pseudonyms.ReplaceAsync(connection, tx, "runs.dag_runs", "created_by", name, pseudonym, ct);
}
