using System.Globalization;
using Npgsql;
using Scheduler.Infrastructure.Database;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// LISTENs for queued tasks (wakes the claim loop) and cancelled runs (stops their attempts
/// here at once, not at the next heartbeat). After every (re)connect the claim loop is woken
/// with the constrained hint, so anything queued while nobody listened is claimed.
/// </summary>
internal sealed class QueueListener(NpgsqlDataSource dataSource, RunningAttempts attempts, ClaimSignal signal, TimeProvider time, ILogger<QueueListener> logger)
{
    public Task RunAsync(CancellationToken ct) =>
        new PostgresListener(dataSource.OpenConnectionAsync, [Channels.Queue, Channels.Cancel], OnNotification, OnConnected, logger, time: time).RunAsync(ct);

    private void OnNotification(NpgsqlNotificationEventArgs e)
    {
        if (e.Channel == Channels.Cancel)
        {
            if (long.TryParse(e.Payload, CultureInfo.InvariantCulture, out var runId))
                attempts.StopRun(runId, StopReason.Cancelled);
            return;
        }
        if (e.Payload == "c")
            signal.HintConstrained();
        signal.Wake();
    }

    private Task OnConnected(NpgsqlConnection connection, CancellationToken ct)
    {
        signal.HintConstrained();
        signal.Wake();
        return Task.CompletedTask;
    }
}
