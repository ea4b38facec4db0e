using Microsoft.EntityFrameworkCore;

namespace Scheduler.Modules.Dags;

internal sealed class DagsDbContext(DbContextOptions<DagsDbContext> options) : DbContext(options)
{
    public DbSet<Dag> Dags => Set<Dag>();
    public DbSet<DagVersion> Versions => Set<DagVersion>();
    public DbSet<Scheduler.Modules.Dags.Calendars.StoredCalendar> Calendars => Set<Calendars.StoredCalendar>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.HasDefaultSchema("dags");
        model.Entity<Dag>(e =>
        {
            e.ToTable("dags");
            e.Property(d => d.Id).UseIdentityAlwaysColumn();
            e.Property(d => d.Definition).HasColumnType("jsonb");
            e.HasIndex(d => d.Name).IsUnique();
        });
        model.Entity<DagVersion>(e =>
        {
            e.ToTable("dag_versions");
            e.HasKey(v => new { v.DagId, v.Version });
            e.Property(v => v.Definition).HasColumnType("jsonb");
        });
        Scheduler.Modules.Dags.Calendars.StoredCalendar.Configure(model);
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
}

internal sealed class DagVersion
{
    public long DagId { get; set; }
    public int Version { get; set; }
    public required string Hash { get; set; }
    public required string Definition { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
}
