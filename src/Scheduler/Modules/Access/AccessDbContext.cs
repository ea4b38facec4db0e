using Microsoft.EntityFrameworkCore;

namespace Scheduler.Modules.Access;

internal sealed class AccessDbContext(DbContextOptions<AccessDbContext> options) : DbContext(options)
{
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<User> Users => Set<User>();
    public DbSet<Team> Teams => Set<Team>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.HasDefaultSchema("access");
        model.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.Property(k => k.Id).UseIdentityAlwaysColumn();
            e.Property(k => k.TeamRoles).HasColumnName("team_roles").HasColumnType("jsonb");
        });
        model.Entity<User>(e =>
        {
            e.ToTable("users");
            e.Property(u => u.Id).UseIdentityAlwaysColumn();
            e.Property(u => u.TeamRoles).HasColumnName("team_roles").HasColumnType("jsonb");
        });
        model.Entity<Team>(e =>
        {
            e.ToTable("teams");
            e.HasKey(t => t.Name);
        });
    }
}

internal sealed class ApiKey
{
    public long Id { get; set; }
    public required string Name { get; set; }
    /// <summary>The global role, or null for a key with team roles only.</summary>
    public string? Role { get; set; }

    /// <summary>Roles per team, <c>{"team": "role"}</c> as JSON (<see cref="TeamRoleMaps"/>).</summary>
    public string TeamRoles { get; set; } = "{}";
    public required byte[] KeyHash { get; set; }
    public required string Prefix { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The user who created the key in the admin pages: deleting that user revokes it.</summary>
    public long? CreatedByUserId { get; set; }
}

/// <summary>
/// A person who signs in to the admin pages. A local user's password is kept only as a
/// PasswordHasher hash; an SSO user (<see cref="Source"/> oidc or ldap) has none here.
/// </summary>
internal sealed class User
{
    public long Id { get; set; }
    public required string Username { get; set; }

    /// <summary>The global role, or null for a user with team roles only (<see cref="TeamRoles"/>).</summary>
    public string? Role { get; set; }

    /// <summary>Roles per team, <c>{"team": "role"}</c> as JSON (<see cref="TeamRoleMaps"/>).</summary>
    public string TeamRoles { get; set; } = "{}";
    public string? PasswordHash { get; set; }

    /// <summary>Where the user signs in: <see cref="UserSources"/>.</summary>
    public string Source { get; set; } = UserSources.Local;
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Carried by the sign-in cookie; replaced when the password or role changes, which ends every session issued before.</summary>
    public string SecurityStamp { get; set; } = UserResponses.NewStamp();
}

/// <summary>A team: objects (DAGs, connections, variables, channels, monitors) may belong to one; keys and users hold roles in it.</summary>
internal sealed class Team
{
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
