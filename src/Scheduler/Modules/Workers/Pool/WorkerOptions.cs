namespace Scheduler.Modules.Workers.Pool;

/// <summary>Configuration section <c>Workers</c>.</summary>
internal sealed class WorkerOptions
{
    /// <summary>Run tasks on this replica at all (an API-only replica sets false).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>
    /// Tasks this replica runs at once. Most tasks wait on something else (HTTP, SQL, a
    /// child process), so this is a cap on concurrency rather than a count of cores.
    /// </summary>
    public int Slots { get; set; } = 64;
    /// <summary>How long a claimed task is this worker's without a heartbeat; after it, the task is requeued.</summary>
    public double LeaseSeconds { get; set; } = 30;
    public double HeartbeatSeconds { get; set; } = 10;
    /// <summary>
    /// Fallback poll when no NOTIFY arrives, while this worker runs tasks or claimed one within
    /// the last <see cref="IdlePollSeconds"/>: a slot freed in a limited pool or under a DAG's
    /// max_active_tasks is announced by no NOTIFY, and the worker whose task freed it finds
    /// the waiting task by this poll.
    /// </summary>
    public double PollSeconds { get; set; } = 2;
    /// <summary>
    /// Fallback poll of an idle worker. Every path that queues a task sends a NOTIFY, and the
    /// listener claims once after each reconnect, so this only bounds a notification lost in
    /// some way not foreseen.
    /// </summary>
    public double IdlePollSeconds { get; set; } = 30;
    /// <summary>On shutdown, how long running tasks may finish before they are handed back to the queue.</summary>
    public double ShutdownTimeoutSeconds { get; set; } = 30;
    /// <summary>
    /// Transactions recording outcomes at once. Each records every outcome waiting (up to
    /// <see cref="MaxRecordingBatch"/>), of any number of runs, so a few suffice.
    /// </summary>
    public int RecordingConcurrency { get; set; } = 4;
    /// <summary>Outcomes recorded in one transaction at most (a run's outcomes are never split).</summary>
    public int MaxRecordingBatch { get; set; } = 500;
    /// <summary>
    /// Outcomes waiting for the database at which claiming pauses. At the slot count (the old
    /// rule), a worker of short tasks alternated between claiming and recording; a few times
    /// that lets both overlap, and still bounds what a slow database can pile up.
    /// </summary>
    public int RecordingBacklog { get; set; } = 512;
    /// <summary>Characters of log kept per attempt.</summary>
    public int MaxLogChars { get; set; } = 1_000_000;
    /// <summary>
    /// The timeout of a task whose definition sets none (0: none), so a task that hangs
    /// frees its slot at last. A task's own <c>timeout</c> (or its DAG's default) governs
    /// where set.
    /// </summary>
    public double DefaultTaskTimeoutSeconds { get; set; } = 86_400;
    /// <summary>
    /// How long an <c>http</c> task waits for the response of a request (0: no limit), when
    /// the task sets no timeout: a hung endpoint fails the attempt instead of holding a slot.
    /// </summary>
    public double HttpTimeoutSeconds { get; set; } = 300;
    /// <summary>The command timeout of a <c>sql</c> task's statement (0: no limit), when the task sets no timeout.</summary>
    public double SqlCommandTimeoutSeconds { get; set; } = 3_600;
    /// <summary>
    /// <c>Workers:Shell:RunAsUser</c>: the OS account shell tasks run as (the server's own when
    /// empty); switching to it needs a server running as root (<see cref="Executors.ShellUser"/>).
    /// </summary>
    public ShellOptions Shell { get; set; } = new();

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);
    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);
    /// <summary>A worker node is alive while its last heartbeat is this recent: three intervals.</summary>
    public TimeSpan AliveWindow => Heartbeat * 3;
    public TimeSpan Poll => TimeSpan.FromSeconds(PollSeconds);
    public TimeSpan IdlePoll => TimeSpan.FromSeconds(Math.Max(PollSeconds, IdlePollSeconds));
    public TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(ShutdownTimeoutSeconds);
    public TimeSpan? DefaultTaskTimeout => Limit(DefaultTaskTimeoutSeconds);
    public TimeSpan? HttpTimeout => Limit(HttpTimeoutSeconds);

    /// <summary>Seconds as a limit; zero or less is none.</summary>
    private static TimeSpan? Limit(double seconds) => seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
}

internal sealed class ShellOptions
{
    public string? RunAsUser { get; set; }
}
