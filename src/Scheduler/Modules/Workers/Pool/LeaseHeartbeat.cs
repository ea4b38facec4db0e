using Mediator;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.Modules.Workers.Pool;

/// <summary>
/// Renews the leases of every attempt this worker holds (running, or finished and being
/// recorded) and stops those the engine says are no longer this worker's; then refreshes the
/// worker's registry row. A failed beat is logged and the next one tries again: the lease
/// period is several heartbeats, so one lost beat loses no task.
/// </summary>
internal sealed class LeaseHeartbeat(
    IServiceScopeFactory scopes,
    NpgsqlDataSource dataSource,
    WorkerIdentity worker,
    RunningAttempts attempts,
    ClaimSignal signal,
    IOptions<WorkerOptions> options,
    TimeProvider time,
    ILogger<LeaseHeartbeat> logger)
{
    private readonly WorkerOptions _options = options.Value;

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.Heartbeat, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await BeatAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Heartbeat failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task BeatAsync(CancellationToken ct)
    {
        var running = attempts.RunningIds;
        await using var scope = scopes.CreateAsyncScope();
        var lost = await scope.ServiceProvider.GetRequiredService<ISender>()
            .Send(new RenewLeases(worker.Id, [.. running, .. attempts.RecordingIds], _options.Lease), ct);
        foreach (var id in lost)
            attempts.Stop(id, StopReason.Lost);
        await Registry.HeartbeatAsync(dataSource, worker.Id, _options.Slots, running.Length, signal.Stopped, ct);
    }
}
