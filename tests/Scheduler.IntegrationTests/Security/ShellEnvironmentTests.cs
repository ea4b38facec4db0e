using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Security;

/// <summary>
/// What a shell task can really read of the server's environment: the server runs in this
/// test process, whose environment holds the test database's connection string (test.sh
/// exports SCHEDULER_TEST_CONNECTION, and ConnectionStrings__Scheduler when given one).
/// </summary>
public sealed class ShellEnvironmentTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task ShellTask_CannotReadTheServersSecrets_ThroughProc()
    {
        Assert.False(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SCHEDULER_TEST_CONNECTION")));
        var pid = Environment.ProcessId;
        const string command = """
            echo "parent=$PPID"
            echo '--- parent'; tr '\0' '\n' < /proc/$PPID/environ
            echo '--- pid 1'; tr '\0' '\n' < /proc/1/environ 2>&1
            echo '--- walk'
            for d in /proc/[0-9]*; do
              [ "${d#/proc/}" = "$SERVER_PID" ] || continue
              for e in "$d/environ" "$d"/task/*/environ; do tr '\0' '\n' < "$e"; done
            done
            echo '--- own'; env
            """;
        await Admin.PostJsonAsync("dags", new
        {
            name = "peek",
            tasks = new[] { new { id = "peek", type = "shell", command, env = new Dictionary<string, string> { ["SERVER_PID"] = pid.ToString() } } },
        }).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("peek"));
        Assert.Equal("success", RunHelpers.State(run, "peek"));
        using var response = await Viewer.GetAsync($"runs/{run.GetProperty("run_id").GetInt64()}/tasks/peek/logs");
        var log = await response.Content.ReadAsStringAsync();

        // The task's parent is the server, and its environment block was readable (PATH is there)...
        Assert.Contains($"parent={pid}", log);
        Assert.Contains("--- walk", log);
        Assert.Contains("PATH=", log.Split("--- pid 1")[0]);
        // ...but held none of its secrets, nor did any of its threads' or the task's own.
        foreach (var secret in new[] { "ConnectionStrings__", "SCHEDULER_TEST_CONNECTION=", "SCHEDULER_PG_ADMIN_CONNECTION=", "Auth__", "PGPASSWORD=", TestDatabase.ConnectionString, ServerFixture.BootstrapKey })
            Assert.DoesNotContain(secret, log);
        // The server itself still reads its configuration from the environment.
        Assert.Equal(TestDatabase.ConnectionString, Environment.GetEnvironmentVariable("SCHEDULER_TEST_CONNECTION"));
    }
}
