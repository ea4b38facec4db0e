using System.Text;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Text;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// An attempt's log: buffered in memory and flushed about once a second while the task runs
/// (so the API shows output so far without a write per line), the rest with the completion.
/// Past the cap, output is counted and dropped, and a marker says how much. What is kept is
/// cleaned for PostgreSQL text as it is written (a NUL byte, a lone surrogate), so no output
/// can make a log write fail. A flush that fails puts its text back, ahead of anything
/// written since: output reaches the database AT LEAST once (a flush whose commit was not
/// acknowledged may be sent again), in order.
/// </summary>
internal sealed class AttemptLog(int maxChars) : ITaskLog
{
    private readonly StringBuilder _pending = new();
    private readonly Lock _lock = new();
    private long _written;
    private long _dropped;

    /// <summary>Secret values masked as *** in everything written from then on (set before the task starts).</summary>
    public IReadOnlyList<string> Secrets { get; set; } = [];

    public void Write(string text)
    {
        text = SecretMask.MaskValues(text, Secrets);
        lock (_lock)
        {
            var room = maxChars - _written;
            if (room <= 0)
            {
                _dropped += text.Length;
                return;
            }
            var kept = text.Length <= room ? text : text[..(int)room];
            _pending.Append(PostgresText.Clean(kept));
            _written += kept.Length;
            _dropped += text.Length - kept.Length;
        }
    }

    public void WriteLine(string line) => Write(line + "\n");

    /// <summary>What has been written since the last take (and the drop marker at the end).</summary>
    public string Take(bool final)
    {
        lock (_lock)
        {
            var text = _pending.ToString();
            _pending.Clear();
            if (final && _dropped > 0)
                text += $"\n--- log truncated: {_dropped} more characters were dropped ---\n";
            return text;
        }
    }

    /// <summary>Sends what was written since the last flush; on failure keeps it for the next one, and throws.</summary>
    public async Task FlushAsync(Func<string, CancellationToken, Task> append, CancellationToken ct)
    {
        var text = Take(final: false);
        if (text.Length == 0)
            return;
        try
        {
            await append(text, ct);
        }
        catch
        {
            lock (_lock)
                _pending.Insert(0, text);
            throw;
        }
    }

    /// <summary>
    /// Flushes every <paramref name="period"/> until <paramref name="ct"/> fires. A failed flush
    /// (the database away for a moment) does not end the loop: its text goes with the next
    /// flush, or with the completion.
    /// </summary>
    public async Task FlushPeriodicallyAsync(Func<string, CancellationToken, Task> append, TimeSpan period, TimeProvider time, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(period, time);
        // Stopped by disposing the timer, which ends the wait with false: a cancelled wait
        // would throw, and an exception per attempt is a measurable cost at thousands of
        // short attempts a second (P3).
        await using var stop = ct.Register(timer.Dispose);
        try
        {
            while (await timer.WaitForNextTickAsync(CancellationToken.None))
            {
                try
                {
                    await FlushAsync(append, ct);
                }
                catch (Exception)
                {
                    // Kept for the next flush; a log write never decides the attempt's fate.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
