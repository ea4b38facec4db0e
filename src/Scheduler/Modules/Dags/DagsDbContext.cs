using Microsoft.EntityFrameworkCore;

namespace Scheduler.Modules.Dags;

internal sealed class DagsDbContext(DbContextOptions<DagsDbContext> options) : DbContext(options)
{
    public DbSet<Dag> Dags => Set<Dag>();
    public DbSet<DagVersion> Versions => Set<DagVersion>();
    public DbSet<Scheduler.Modules.Dags.Calendars.StoredCalendar> Calendars => Set<Calendars.StoredCalendar>();
    public DbSet<GitSync> GitSyncs => Set<GitSync>();
    public DbSet<ImportError> ImportErrors => Set<ImportError>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.HasDefaultSchema("dags");
        model.Entity<Dag>(e =>
        {
            e.ToTable("dags");
            e.Property(d => d.Id).UseIdentityAlwaysColumn();
            e.Property(d => d.Definition).HasColumnType("jsonb");
            e.Property(d => d.Outlets).HasColumnType("jsonb");
            e.HasIndex(d => d.Name).IsUnique();
        });
        model.Entity<DagVersion>(e =>
        {
            e.ToTable("dag_versions");
            e.HasKey(v => new { v.DagId, v.Version });
            e.Property(v => v.Definition).HasColumnType("jsonb");
        });
        Scheduler.Modules.Dags.Calendars.StoredCalendar.Configure(model);
        model.Entity<GitSync>(e =>
        {
            e.ToTable("git_syncs");
            e.HasKey(g => g.Repository);
        });
        model.Entity<ImportError>(e =>
        {
            e.ToTable("import_errors");
            e.HasKey(i => new { i.Repository, i.Path });
            e.Property(i => i.Errors).HasColumnType("jsonb");
        });
    }
}

internal sealed class Dag
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public string? Owner { get; set; }
    public string[] Tags { get; set; } = [];
    public bool Paused { get; set; }
    public int Version { get; set; }
    public required string Hash { get; set; }
    public required string Definition { get; set; }
    public string? Cron { get; set; }
    public long? IntervalSeconds { get; set; }
    public string Timezone { get; set; } = "UTC";
    public int TaskCount { get; set; }
    public DateTimeOffset? NextRunAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>The git repository that owns the DAG (REST writes refused), or null.</summary>
    public string? SourceRepository { get; set; }
    /// <summary>The file the current version came from; null once the file was removed.</summary>
    public string? SourcePath { get; set; }
    public string? SourceCommit { get; set; }
    /// <summary>The current version's <c>schedule_on_assets</c> (empty: not scheduled on assets).</summary>
    public string[] ScheduleOnAssets { get; set; } = [];
    /// <summary>The current version's task outlets, <c>[{"task", "uri"}]</c>.</summary>
    public string Outlets { get; set; } = "[]";
    /// <summary>The owning team (the definition's <c>team</c>), or null.</summary>
    public string? Team { get; set; }
}

internal sealed class DagVersion
{
    public long DagId { get; set; }
    public int Version { get; set; }
    public required string Hash { get; set; }
    public required string Definition { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public string? SourceCommit { get; set; }
    public string? SourcePath { get; set; }
}

/// <summary>The last commit of a repository whose import finished.</summary>
internal sealed class GitSync
{
    public required string Repository { get; set; }
    public required string Branch { get; set; }
    public required string Commit { get; set; }
    public DateTimeOffset SyncedAt { get; set; }
}

/// <summary>A file of the last imported commit that is not a valid DAG.</summary>
internal sealed class ImportError
{
    public required string Repository { get; set; }
    public required string Path { get; set; }
    public required string Commit { get; set; }
    public required string Message { get; set; }
    public string Errors { get; set; } = "{}";
    public DateTimeOffset RecordedAt { get; set; }
}
