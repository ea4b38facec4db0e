namespace Scheduler.Modules.Runs.Engine;

/// <summary>What the scheduler loop does with a parked wait whose wake-up came (see <see cref="WaitDecisions.OnWake"/>).</summary>
internal enum WakeAction
{
    /// <summary>Not due yet (or a signal wait without a timeout): left parked.</summary>
    Sleep,
    /// <summary>The instant or delay waited for has come: the task succeeds, no worker involved.</summary>
    Finish,
    /// <summary>An http wait's next poke: requeued for one short attempt on the same attempt number.</summary>
    Poke,
    /// <summary>Past the task's timeout: the attempt ends timed_out, and its retries apply.</summary>
    TimeOut,
}

/// <summary>The wake-up decision as a pure function; the engine only writes what it says.</summary>
internal static class WaitDecisions
{
    /// <summary>
    /// The timeout wins over everything (a wait is never finished or poked past it); then a
    /// due wake-up finishes the wait, or pokes it when it is an http wait. All instants are the
    /// database's clock, so replicas with skewed clocks decide alike.
    /// </summary>
    public static WakeAction OnWake(DateTimeOffset now, DateTimeOffset? wakeAt, DateTimeOffset? deadline, bool poke)
    {
        if (deadline is { } limit && limit <= now)
            return WakeAction.TimeOut;
        if (wakeAt is not { } due || due > now)
            return WakeAction.Sleep;
        return poke ? WakeAction.Poke : WakeAction.Finish;
    }
}
