using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs;

namespace Scheduler.IntegrationTests.Notifications;

/// <summary>The hourly retention job: old history goes, recent history and work in flight stay.</summary>
public sealed class HistoryRetentionTests(ServerFixture server) : ServerTest(server)
{
    private static async Task ExecAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(string sql) => await TestDatabase.ScalarAsync<long>(sql);

    [Fact]
    public async Task Retention_PurgesOldEventsDeliveriesPingsDeadWorkersAndRuns_AndKeepsRecentOnes()
    {
        await Admin.ChannelAsync("hook", "webhook", """{"url":"http://127.0.0.1:9/events","secret":"webhook-shared-secret-0123456789"}""");
        await Admin.PutJsonAsync("monitors/backup", """{"interval":"PT1H","grace":"PT0S"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"kept","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var oldRun = await Operator.TriggerAsync("kept", """{"logical_date":"2026-01-01T00:00:00Z"}""");
        var newRun = await Operator.TriggerAsync("kept", """{"logical_date":"2026-01-02T00:00:00Z"}""");
        await Viewer.WaitForRunAsync(oldRun);
        await Viewer.WaitForRunAsync(newRun);

        // Events: old and delivered (goes), old with a delivery still pending (stays: a retry is
        // due tomorrow), recent (stays). 2,500 old pings (more than one batch) go, a recent one stays.
        await ExecAsync($"""
            update runs.dag_runs set finished_at = now() - interval '100 days' where id = {oldRun};
            insert into notifications.events (kind, dedup_key, occurred_at, dispatched_at) values
                ('run_failed', 'old-done', now() - interval '40 days', now() - interval '40 days'),
                ('run_failed', 'old-pending', now() - interval '40 days', now() - interval '40 days'),
                ('run_failed', 'recent', now() - interval '2 days', now() - interval '2 days');
            insert into notifications.deliveries (event_id, channel_id, status, attempts, created_at, next_attempt_at)
            select e.id, c.id, case e.dedup_key when 'old-pending' then 'pending' else 'delivered' end, 1, e.occurred_at,
                   case e.dedup_key when 'old-pending' then now() + interval '1 day' end
            from notifications.events e, notifications.channels c;
            insert into notifications.pings (monitor_id, kind, received_at)
            select m.id, 'success', now() - interval '31 days' - g * interval '1 second' from notifications.monitors m, generate_series(1, 2500) g;
            insert into notifications.pings (monitor_id, kind, received_at) select id, 'success', now() - interval '1 hour' from notifications.monitors;
            insert into workers.nodes (id, host, pid, slots, started_at, heartbeat_at)
            values ('dead-replica', 'gone', 1, 8, now() - interval '3 days', now() - interval '2 days')
            on conflict (id) do update set heartbeat_at = excluded.heartbeat_at;
            """);
        var liveWorkers = await CountAsync("select count(*) from workers.nodes where id <> 'dead-replica'");

        await using (var scope = Server.Services.CreateAsyncScope())
            await new SchedulerJobs.Retention(scope.ServiceProvider.GetRequiredService<ISender>()).Execute(null!, CancellationToken.None);

        Assert.Equal(["old-pending", "recent"], await DedupKeysAsync());
        Assert.Equal(2, await CountAsync("select count(*) from notifications.deliveries"));
        Assert.Equal(1, await CountAsync("select count(*) from notifications.pings"));
        Assert.Equal(0, await CountAsync("select count(*) from workers.nodes where id = 'dead-replica'"));
        Assert.Equal(liveWorkers, await CountAsync("select count(*) from workers.nodes"));
        Assert.Equal(0, await CountAsync($"select count(*) from runs.dag_runs where id = {oldRun}"));
        Assert.Equal(1, await CountAsync($"select count(*) from runs.dag_runs where id = {newRun}"));
    }

    private static async Task<List<string>> DedupKeysAsync()
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select dedup_key from notifications.events order by dedup_key", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
            keys.Add(reader.GetString(0));
        return keys;
    }
}
