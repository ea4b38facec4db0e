using Mediator;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>The engine behind the Workers module's contracts.</summary>
internal sealed class TaskQueueHandlers(TaskClaims claims, TaskCompletion completion, QueueMaintenance maintenance, RunUnitOfWork unit, WaitWakeups waits) :
    ICommandHandler<ClaimTasks, IReadOnlyList<ClaimedTask>>,
    ICommandHandler<CompleteTasks, int>,
    ICommandHandler<CompleteAndClaimTasks, CompletedTasks>,
    ICommandHandler<RenewLeases, IReadOnlyList<long>>,
    ICommandHandler<ExpireLeases, int>,
    ICommandHandler<AppendTaskLog>,
    ICommandHandler<ReleaseTasks, int>,
    ICommandHandler<RunQueueMaintenance, int>
{
    public async ValueTask<IReadOnlyList<ClaimedTask>> Handle(ClaimTasks command, CancellationToken cancellationToken)
    {
        var claimed = await claims.ClaimAsync(command.WorkerId, command.Max, command.Lease, cancellationToken);
        if (command.IncludeConstrained && claimed.Count < command.Max)
            claimed.AddRange(await claims.ClaimConstrainedAsync(command.WorkerId, command.Max - claimed.Count, command.Lease, cancellationToken));
        return claimed;
    }

    public async ValueTask<int> Handle(CompleteTasks command, CancellationToken cancellationToken) =>
        (await completion.CompleteAsync(command.Completions, null, cancellationToken)).Counted;

    public async ValueTask<CompletedTasks> Handle(CompleteAndClaimTasks command, CancellationToken cancellationToken) =>
        await completion.CompleteAsync(command.Completions, new TaskCompletion.HandOff(command.WorkerId, command.HandOff, command.Lease), cancellationToken);

    public async ValueTask<IReadOnlyList<long>> Handle(RenewLeases command, CancellationToken cancellationToken) =>
        command.Running.Count == 0 ? [] : await maintenance.HeartbeatAsync(command.WorkerId, command.Running, command.Lease, cancellationToken);

    public async ValueTask<int> Handle(ExpireLeases command, CancellationToken cancellationToken) =>
        command.Attempts.Count == 0 ? 0 : await maintenance.ExpireLeasesAsync(command.WorkerId, command.Attempts, cancellationToken);

    public async ValueTask<Unit> Handle(AppendTaskLog command, CancellationToken cancellationToken)
    {
        await completion.AppendLogAsync(command.TaskInstanceId, command.Attempt, command.Text, cancellationToken);
        return Unit.Value;
    }

    public async ValueTask<int> Handle(ReleaseTasks command, CancellationToken cancellationToken) =>
        await maintenance.ReleaseAsync(command.WorkerId, command.TaskInstanceIds, cancellationToken);

    public async ValueTask<int> Handle(RunQueueMaintenance command, CancellationToken cancellationToken) =>
        await maintenance.ReapExpiredLeasesAsync(cancellationToken) + await maintenance.PromoteDueRetriesAsync(cancellationToken)
        + await maintenance.MarkSlaMissesAsync(cancellationToken) + await unit.StartStrandedRunsAsync(cancellationToken)
        + await waits.WakeAsync(cancellationToken) + await waits.TimeOutRunsAsync(cancellationToken);
}
