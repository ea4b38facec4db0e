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
        IReadOnlyDictionary<string, Scheduling.ExclusionCalendar> calendars, CancellationToken cancellationToken, DagSource? source = null)
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
        SetSource(dag, source);
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
        db.Versions.Add(NewVersion(dag, now, actor, source));
        await audit.SaveChangesAsync(db, "dag.create", AuditTargets.Dag(dag.Name), AuditDetails(1, dag.Hash, source), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return dag;
    }

    public static DagVersion NewVersion(Dag dag, DateTimeOffset now, string? actor, DagSource? source) => new()
    {
        DagId = dag.Id, Version = dag.Version, Hash = dag.Hash, Definition = dag.Definition,
        CreatedAt = now, CreatedBy = actor, SourceCommit = source?.Commit, SourcePath = source?.Path,
    };

    /// <summary>
    /// Records a git origin on the catalogue row. Returns true when it changed. A DAG that git
    /// paused because its file was removed is unpaused (to the file's own paused setting) when
    /// the file comes back.
    /// </summary>
    public static bool SetSource(Dag dag, DagSource? source, bool? pausedInFile = null)
    {
        if (source is null)
            return false;
        var changed = dag.SourceRepository != source.Repository || dag.SourcePath != source.Path || dag.SourceCommit != source.Commit;
        if (dag.SourceRepository is not null && dag.SourcePath is null && source.Path is not null)
            dag.Paused = pausedInFile ?? false;
        dag.SourceRepository = source.Repository;
        dag.SourcePath = source.Path;
        dag.SourceCommit = source.Commit;
        return changed;
    }

    /// <summary>An audit entry's details for a new version: its number and hash, and where git is the source, the commit and file.</summary>
    public static System.Text.Json.Nodes.JsonObject AuditDetails(int version, string hash, DagSource? source)
    {
        var details = new System.Text.Json.Nodes.JsonObject { ["version"] = version, ["hash"] = hash };
        if (source is not null)
        {
            details["commit"] = source.Commit;
            details["path"] = source.Path;
        }
        return details;
    }

    /// <summary>The 409 a REST write of a git-owned DAG gets.</summary>
    public static string OwnedMessage(string name, string repository) =>
        $"DAG '{name}' is owned by the git repository '{repository}'; change its file there (then POST /api/v1/dags/sync), not through the REST API.";
}
