using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.Modules.Dags;

/// <summary>Writes shared by the create and replace use cases.</summary>
internal static class DagStore
{
    /// <summary>
    /// Inserts the DAG and its version 1 in one transaction. Returns null when the name is
    /// taken: the unique key decides, so two concurrent creates cannot both succeed.
    /// </summary>
    public static async Task<Dag?> TryInsertAsync(DagsDbContext db, AuditTrail audit, PreparedDefinition prepared, string? actor, DateTimeOffset now,
        IReadOnlyDictionary<string, Scheduling.ExclusionCalendar> calendars, CancellationToken cancellationToken)
    {
        var dag = new Dag
        {
            Name = prepared.Definition.Name!,
            Hash = prepared.Hash,
            Definition = prepared.Canonical,
            Version = 1,
            Paused = prepared.Definition.Paused ?? false,
            CreatedAt = now,
        };
        dag.Apply(prepared, now, calendars);
        db.Dags.Add(dag);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return null;
        }
        db.Versions.Add(new DagVersion { DagId = dag.Id, Version = 1, Hash = dag.Hash, Definition = dag.Definition, CreatedAt = now, CreatedBy = actor });
        await audit.SaveChangesAsync(db, "dag.create", AuditTargets.Dag(dag.Name), new() { ["version"] = 1, ["hash"] = dag.Hash }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return dag;
    }
}
