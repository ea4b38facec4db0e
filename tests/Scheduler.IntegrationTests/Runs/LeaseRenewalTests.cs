using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs.Contracts;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>
/// Issue 12 (a burst's last runs finished a minute late): leases. A completion batch and the
/// heartbeat of the same worker deadlocked (40P01, a deadlock_timeout after a heartbeat tick):
/// the completion locks its tasks in id order, the heartbeat's UPDATE locked them in the order
/// it found them. And an outcome the worker gave up recording waited out the rest of its lease.
/// </summary>
public sealed class LeaseRenewalTests(ServerFixture server) : ServerTest(server)
{
    private const string Worker = "test-worker:1:beating";

    [Fact]
    public async Task RenewLeases_LocksInIdOrder_SoACompletionLockingInIdOrderNeverDeadlocksWithIt()
    {
        await Admin.PutJsonAsync("pools/held", """{"slots":0,"description":"nobody claims these"}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"beat","tasks":[{"id":"a","pool":"held"},{"id":"b","pool":"held"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("beat");
        var a = await FakeWorker.ClaimAsync(runId, "a", Worker, TimeSpan.FromMinutes(5));
        var b = await FakeWorker.ClaimAsync(runId, "b", Worker, TimeSpan.FromMinutes(5));
        var (low, high) = a.Id < b.Id ? (a.Id, b.Id) : (b.Id, a.Id);

        await using var completion = new NpgsqlConnection(TestDatabase.ConnectionString);
        await completion.OpenAsync();
        // A change of an indexed column (not HOT) puts the lower id's row version behind the
        // higher one's in every index, as claims and requeues do under load: a scan of the
        // worker's index then meets the higher id first.
        await ExecuteAsync(completion, null, "update runs.task_instances set priority = priority + 1 where id = @id", low);
        await using var tx = await completion.BeginTransactionAsync();
        await ExecuteAsync(completion, tx, "set local lock_timeout = '10s'", null);
        await ExecuteAsync(completion, tx, "select id from runs.task_instances where id = @id for update", low);

        var renewing = Task.Run(async () =>
        {
            await using var scope = Server.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<ISender>().Send(new RenewLeases(Worker, [high, low], TimeSpan.FromMinutes(5)));
        });
        await WaitUntilRenewalWaitsAsync(renewing);
        // What the completion locks next; a heartbeat holding it would make this a deadlock.
        await ExecuteAsync(completion, tx, "select id from runs.task_instances where id = @id for update", high);
        await tx.CommitAsync();

        Assert.Empty(await renewing.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task UnrecordableOutcome_IsRequeuedAtTheNextMaintenance_NotALeasePeriodLater()
    {
        // The database refuses this task's success for good (not an outage): the worker gives
        // up recording it. Each delivery then waited out its lease (4 s here): three deliveries
        // (the cap) took over 9 s. With the lease ended on giving up, they take a few maintenances.
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, null, """
            create or replace function runs.test_refuse_doomed() returns trigger language plpgsql as
            $$ begin raise exception 'test: this outcome cannot be stored'; end $$;
            drop trigger if exists test_refuse_doomed on runs.task_attempts;
            create trigger test_refuse_doomed before update on runs.task_attempts for each row
            when (new.task_id = 'doomed' and new.state = 'success') execute function runs.test_refuse_doomed();
            """, null);
        try
        {
            await Admin.PostJsonAsync("dags", """{"name":"unrecordable","tasks":[{"id":"doomed"}]}""").ExpectAsync(HttpStatusCode.Created);
            var started = DateTimeOffset.UtcNow;
            var runId = await Operator.TriggerAsync("unrecordable");
            var run = await Viewer.WaitForRunAsync(runId);
            var took = DateTimeOffset.UtcNow - started;

            Assert.Equal("failed", run.GetProperty("state").GetString());
            var attempt = RunHelpers.Task(run, "doomed").GetProperty("attempts").EnumerateArray().Single();
            Assert.Equal(3, attempt.GetProperty("deliveries").GetInt32());
            Assert.True(took < TimeSpan.FromSeconds(6), $"three unrecordable deliveries took {took}");
        }
        finally
        {
            await ExecuteAsync(connection, null, "drop trigger if exists test_refuse_doomed on runs.task_attempts; drop function if exists runs.test_refuse_doomed()", null);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, long? id)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        if (id is not null)
            cmd.Parameters.AddWithValue("id", id.Value);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Until the renewal waits for a row lock (it must: the completion holds one of its rows).</summary>
    private static async Task WaitUntilRenewalWaitsAsync(Task renewing)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        for (var i = 0; i < 100 && !renewing.IsCompleted; i++)
        {
            await using var cmd = new NpgsqlCommand("select exists (select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%set lease_expires_at = now() + $%')", connection);
            if ((bool)(await cmd.ExecuteScalarAsync())!)
                return;
            await Task.Delay(50);
        }
        Assert.Fail("the lease renewal never waited for the completion's row lock");
    }
}
