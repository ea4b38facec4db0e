namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// What the claim loop is told by the other parts: wake up (work was queued, a slot or the
/// recording backlog freed), look at constrained tasks too, stop claiming. A wake-up is
/// never lost: one given while the loop is busy is kept (once) for its next wait.
/// </summary>
internal sealed class ClaimSignal(TimeProvider time)
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile bool _constrainedHint = true;
    private volatile bool _backlog;
    private volatile bool _stopped;

    /// <summary>Set once: the worker is shutting down and claims nothing more.</summary>
    public bool Stopped => _stopped;

    /// <summary>The last claim filled every free slot, so more work is probably waiting.</summary>
    public bool Backlog
    {
        get => _backlog;
        set => _backlog = value;
    }

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up claims for every free slot.
        }
    }

    /// <summary>Tasks in limited pools (or under max_active_tasks) may be claimable: the next claim looks at them.</summary>
    public void HintConstrained() => _constrainedHint = true;

    /// <summary>Whether a hint arrived since the last call; clears it.</summary>
    public bool TakeConstrainedHint()
    {
        var hint = _constrainedHint;
        _constrainedHint = false;
        return hint;
    }

    public void Stop()
    {
        _stopped = true;
        Wake();
    }

    /// <summary>Waits for a wake-up, at most <paramref name="timeout"/>; returns quietly when <paramref name="ct"/> fires.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, ct);
        try
        {
            await _wake.WaitAsync(either.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>This process's worker id, as claims, leases and the worker registry know it.</summary>
internal sealed class WorkerIdentity
{
    public string Id { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
}
