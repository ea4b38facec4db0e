using System.Text;
using Mediator;
using Scheduler.Abstractions;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// An attempt's log: buffered in memory and flushed about once a second while the task runs
/// (so the API shows output so far without a write per line), the rest with the completion.
/// Past the cap, output is counted and dropped, and a marker says how much.
/// </summary>
internal sealed class AttemptLog(long taskInstanceId, int attempt, int maxChars) : ITaskLog
{
    private readonly StringBuilder _pending = new();
    private readonly Lock _lock = new();
    private long _written;
    private long _dropped;

    public void Write(string text)
    {
        lock (_lock)
        {
            var room = maxChars - _written;
            if (room <= 0)
            {
                _dropped += text.Length;
                return;
            }
            var kept = text.Length <= room ? text : text[..(int)room];
            _pending.Append(kept);
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

    public async Task FlushAsync(ISender sender, CancellationToken ct)
    {
        var text = Take(final: false);
        if (text.Length > 0)
            await sender.Send(new AppendTaskLog(taskInstanceId, attempt, text), ct);
    }
}
