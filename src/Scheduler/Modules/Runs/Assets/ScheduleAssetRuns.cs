using Mediator;
using Npgsql;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs.Assets;

/// <summary>
/// The asset scan, run by the scheduler loop after the due-run scan (woken by the NOTIFY an
/// event's commit sends): one statement finds the unpaused consumer DAGs whose every asset has
/// an event past their cursor, then each gets its run through <see cref="AssetRunGuard"/>, which
/// decides again under the DAG's lock. Paused DAGs are not scanned: their events accumulate and
/// one run consumes them all once the DAG is unpaused (the unpause wakes the loop).
/// </summary>
internal static class ScheduleAssetRuns
{
    public sealed record Command : ICommand<int>;

    public sealed class Handler(ISender sender, NpgsqlDataSource dataSource, RunCreator creator, TimeProvider clock, ILogger<Handler> logger) : ICommandHandler<Command, int>
    {
        public async ValueTask<int> Handle(Command command, CancellationToken cancellationToken)
        {
            var consumers = await sender.Send(new GetAssetConsumers(), cancellationToken);
            if (consumers.Count == 0)
                return 0;
            var ready = await ReadyAsync(consumers, cancellationToken);
            var created = 0;
            foreach (var consumer in consumers.Where(c => ready.Contains(c.DagId)))
            {
                if (await sender.Send(new GetDagPlanVersion(consumer.DagId, consumer.Version), cancellationToken) is not { } plan)
                    continue;
                try
                {
                    var run = new NewRun(plan, clock.GetUtcNow(), "asset", [], "scheduler");
                    var ids = await creator.CreateRunsAsync([run], cancellationToken, new AssetRunGuard(consumer));
                    created += ids.Count(id => id is not null);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    // Another replica's run consumed these events first (the trigger's key): nothing lost.
                    logger.LogDebug("Asset run of DAG {Dag} was created elsewhere", consumer.DagName);
                }
            }
            if (created > 0)
                logger.LogInformation("Created {Count} asset-triggered run(s)", created);
            return created;
        }

        /// <summary>The consumer DAGs each of whose assets has an event they have not consumed.</summary>
        private async Task<HashSet<long>> ReadyAsync(IReadOnlyList<AssetConsumer> consumers, CancellationToken ct)
        {
            var pairs = consumers.SelectMany(c => c.Uris.Select(u => (c.DagId, Uri: u, c.Since))).ToList();
            await using var cmd = dataSource.CreateCommand("""
                select x.dag_id from unnest(@dags, @uris, @since) as x(dag_id, uri, since)
                left join runs.asset_cursors k on k.dag_id = x.dag_id and k.uri = x.uri
                group by x.dag_id
                having bool_and(exists (select 1 from runs.asset_events e where e.uri = x.uri and e.id > coalesce(k.last_event_id, 0)
                                        and (k.last_event_id is not null or e.created_at >= x.since)))
                """);
            cmd.Parameters.AddWithValue("dags", pairs.Select(p => p.DagId).ToArray());
            cmd.Parameters.AddWithValue("uris", pairs.Select(p => p.Uri).ToArray());
            cmd.Parameters.AddWithValue("since", pairs.Select(p => p.Since).ToArray());
            var ready = new HashSet<long>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                ready.Add(reader.GetInt64(0));
            return ready;
        }
    }
}
