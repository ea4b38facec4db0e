namespace Scheduler.Modules.Runs.Engine;

internal static class TaskStates
{
    public const string Pending = "pending";
    public const string Queued = "queued";
    public const string Running = "running";
    /// <summary>A wait task parked without a worker slot until its wake-up (docs/scheduling.md).</summary>
    public const string Waiting = "waiting";
    public const string Success = "success";
    public const string Failed = "failed";
    public const string UpForRetry = "up_for_retry";
    public const string UpstreamFailed = "upstream_failed";
    public const string Skipped = "skipped";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Pending, Queued, Running, Waiting, Success, Failed, UpForRetry, UpstreamFailed, Skipped, Cancelled];

    /// <summary>States a task instance never leaves on its own (only clear or mark move it).</summary>
    public static bool IsFinal(string state) => state is Success or Failed or UpstreamFailed or Skipped or Cancelled;

    /// <summary>Final states that make the run fail.</summary>
    public static bool IsUnsuccessful(string state) => state is Failed or UpstreamFailed or Cancelled;
}

internal static class RunStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Success = "success";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string state) => state is Success or Failed or Cancelled;
}
