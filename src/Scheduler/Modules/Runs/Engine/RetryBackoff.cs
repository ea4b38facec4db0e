namespace Scheduler.Modules.Runs.Engine;

/// <summary>
/// How long to wait before the next attempt. Fixed: the retry delay every time. Exponential:
/// delay x 2^(n-1) with "equal jitter" (a random point in the upper half, so retries of many
/// tasks that failed together spread out), and never more than the cap.
/// </summary>
internal static class RetryBackoff
{
    public static readonly TimeSpan DefaultCap = TimeSpan.FromHours(24);

    /// <param name="failedAttempt">The attempt that just failed, 1-based.</param>
    /// <param name="jitter">A number in [0, 1); injected so tests are deterministic.</param>
    public static TimeSpan Delay(TimeSpan retryDelay, bool exponential, TimeSpan? maxDelay, int failedAttempt, double jitter)
    {
        var cap = maxDelay ?? DefaultCap;
        if (!exponential)
            return retryDelay < cap ? retryDelay : cap;
        var exponent = Math.Min(Math.Max(failedAttempt - 1, 0), 62);
        var seconds = retryDelay.TotalSeconds * Math.Pow(2, exponent);
        seconds = Math.Min(seconds, cap.TotalSeconds);
        var jittered = seconds / 2 + seconds / 2 * Math.Clamp(jitter, 0, 1);
        return TimeSpan.FromSeconds(Math.Min(jittered, cap.TotalSeconds));
    }
}
