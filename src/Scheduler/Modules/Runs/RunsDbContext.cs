using Microsoft.EntityFrameworkCore;

namespace Scheduler.Modules.Runs;

/// <summary>Reads for the API and admin pages; the engine writes with raw Npgsql.</summary>
internal sealed class RunsDbContext(DbContextOptions<RunsDbContext> options) : DbContext(options)
{
    public DbSet<DagRun> Runs => Set<DagRun>();
    public DbSet<TaskInstance> TaskInstances => Set<TaskInstance>();
    public DbSet<TaskAttempt> Attempts => Set<TaskAttempt>();
    public DbSet<DeadLetter> DeadLetters => Set<DeadLetter>();
    public DbSet<Pool> Pools => Set<Pool>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.HasDefaultSchema("runs");
        model.Entity<DagRun>(e =>
        {
            e.ToTable("dag_runs");
            e.Property(r => r.Conf).HasColumnType("jsonb");
            e.Property(r => r.Params).HasColumnType("jsonb");
        });
        model.Entity<TaskInstance>().ToTable("task_instances");
        model.Entity<TaskAttempt>(e =>
        {
            e.ToTable("task_attempts");
            e.HasKey(a => new { a.TaskInstanceId, a.Attempt });
            e.Property(a => a.Output).HasColumnType("jsonb");
        });
        model.Entity<DeadLetter>().ToTable("dead_letters");
        model.Entity<Pool>(e =>
        {
            e.ToTable("pools");
            e.HasKey(p => p.Name);
        });
    }
}

internal sealed class DagRun
{
    public long Id { get; set; }
    public long DagId { get; set; }
    public required string DagName { get; set; }
    public int DagVersion { get; set; }
    public DateTimeOffset LogicalDate { get; set; }
    public required string RunType { get; set; }
    public required string State { get; set; }
    public required string Conf { get; set; }
    public required string Params { get; set; }
    public int? MaxActiveTasks { get; set; }
    public int UnfinishedTasks { get; set; }
    public int FailedTasks { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Traceparent { get; set; }
    /// <summary>Why the engine ended the run, when it did (a DAG timeout).</summary>
    public string? Reason { get; set; }
}

internal sealed class TaskInstance
{
    public long Id { get; set; }
    public long RunId { get; set; }
    public required string TaskId { get; set; }
    public required string State { get; set; }
    public int Attempt { get; set; }
    public int MaxAttempts { get; set; }
    public int Priority { get; set; }
    public required string Pool { get; set; }
    public bool Constrained { get; set; }
    public DateTimeOffset? QueuedAt { get; set; }
    public DateTimeOffset? NotBefore { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? WorkerId { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    /// <summary>-1 for a task's own row; 0..n-1 for the instances of a mapped task (migration 0024).</summary>
    public int MapIndex { get; set; } = -1;
}

internal sealed class TaskAttempt
{
    public long TaskInstanceId { get; set; }
    public int Attempt { get; set; }
    public long RunId { get; set; }
    public required string TaskId { get; set; }
    public string? WorkerId { get; set; }
    public required string State { get; set; }
    public int Deliveries { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int? Code { get; set; }
    public string? Error { get; set; }
    public required string Log { get; set; }
    /// <summary>The attempt's output as JSON text (jsonb), or null.</summary>
    public string? Output { get; set; }
}

internal sealed class DeadLetter
{
    public long Id { get; set; }
    public long TaskInstanceId { get; set; }
    public long RunId { get; set; }
    public required string DagName { get; set; }
    public required string TaskId { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RequeuedAt { get; set; }
}

internal sealed class Pool
{
    public required string Name { get; set; }
    public int? Slots { get; set; }
    public string? Description { get; set; }
}
