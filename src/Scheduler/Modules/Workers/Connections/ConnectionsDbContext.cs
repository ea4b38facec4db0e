using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Scheduler.Modules.Workers.Connections;

internal sealed class ConnectionsDbContext(DbContextOptions<ConnectionsDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<StoredConnection> Connections => Set<StoredConnection>();

    /// <summary>Variables for templates (<c>Variables/</c>).</summary>
    public DbSet<Variables.StoredVariable> Variables => Set<Variables.StoredVariable>();

    /// <summary>The Data Protection key ring, shared by every replica so each can decrypt.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.HasDefaultSchema("workers");
        model.Entity<StoredConnection>(e =>
        {
            e.ToTable("connections");
            e.Property(c => c.Id).UseIdentityAlwaysColumn();
        });
        model.Entity<DataProtectionKey>().ToTable("data_protection_keys");
        model.Entity<Variables.StoredVariable>(e =>
        {
            e.ToTable("variables");
            e.HasKey(v => v.Name);
        });
    }
}

internal sealed class StoredConnection
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public required string Kind { get; set; }
    public string? Description { get; set; }
    /// <summary>The connection string, encrypted with Data Protection; never returned or logged.</summary>
    public required string Secret { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>The owning team, or null.</summary>
    public string? Team { get; set; }
}
