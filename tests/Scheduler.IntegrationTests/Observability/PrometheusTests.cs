using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Observability;

/// <summary>
/// Debian's Prometheus (test.sh installs it) against the real test server: promtool checks
/// and unit-tests the rules of deploy/prometheus; a Prometheus on a loopback port scrapes the
/// server every second with those rules loaded, and its own HTTP API must show the
/// scheduler's series arriving, the recording rules evaluating, and the finished-tasks
/// counter rising as tasks run.
/// </summary>
public sealed class PrometheusTests(ServerFixture server) : ServerTest(server)
{
    private static string Rules(string file) => Repository.PathOf("deploy", "prometheus", file);

    [Theory]
    [InlineData("check", "rules", "alerts.yml")]
    [InlineData("test", "rules", "alerts.test.yml")]
    [InlineData("check", "config", "prometheus.yml")]
    public async Task Promtool_AcceptsTheRules_AndTheirUnitTestsPass(string verb, string what, string file)
    {
        var (code, output) = await RunAsync("promtool", verb, what, Rules(file));
        Assert.True(code == 0, $"promtool {verb} {what} {file} failed:\n{output}");
    }

    [Fact]
    public async Task Prometheus_ScrapesTheServer_AndSeesTasksFinish()
    {
        var folder = Directory.CreateTempSubdirectory("scheduler-prometheus-").FullName;
        var port = Loopback.FreePort();
        File.WriteAllText(Path.Combine(folder, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {Rules("alerts.yml")}
            scrape_configs:
              - job_name: scheduler
                metrics_path: /metrics
                static_configs:
                  - targets: ["{Server.BaseAddress.Authority}"]
            """);
        var start = new ProcessStartInfo("prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var argument in new[] { $"--config.file={folder}/prometheus.yml", $"--storage.tsdb.path={folder}/data", $"--web.listen-address=127.0.0.1:{port}" })
            start.ArgumentList.Add(argument);
        using var prometheus = Process.Start(start)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        prometheus.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        prometheus.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        try
        {
            await Admin.PostJsonAsync("dags", """{"name":"scraped","tasks":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d","depends_on":["a","b","c"]}]}""").ExpectAsync(HttpStatusCode.Created);
            // The series arrive: the target is up, the contract's gauges and counters are there.
            await WaitForAsync(api, "up{job=\"scheduler\"}", v => v == 1, prometheus, log);
            await WaitForAsync(api, "sum(scheduler_workers_alive)", v => v >= 1, prometheus, log);
            await WaitForAsync(api, "count(scheduler_task_instances{state=\"queued\"})", v => v >= 1, prometheus, log);
            await WaitForAsync(api, "sum(scheduler_leader)", v => v == 1, prometheus, log);
            // The recording rules evaluate against the real series.
            await WaitForAsync(api, "scheduler:worker_slots", v => v == 8, prometheus, log);
            var before = await WaitForAsync(api, "sum(scheduler_tasks_finished_total{state=\"success\"})", _ => true, prometheus, log);

            for (var i = 0; i < 2; i++)
                await Admin.WaitForRunAsync(await Admin.TriggerAsync("scraped"));
            // The counter moves as tasks run: eight more successes, seen through Prometheus.
            await WaitForAsync(api, "sum(scheduler_tasks_finished_total{state=\"success\"})", v => v >= before + 8, prometheus, log);
            await WaitForAsync(api, "sum(increase(scheduler_runs_finished_total{state=\"success\"}[1m]))", v => v > 0, prometheus, log);

            using var rules = await api.GetAsync("api/v1/rules");
            var groups = JsonDocument.Parse(await rules.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetProperty("groups");
            var unhealthy = groups.EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray())
                .Where(r => r.GetProperty("health").GetString() is not ("ok" or "unknown")).Select(r => r.GetProperty("name").GetString()).ToList();
            Assert.Empty(unhealthy);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Queries Prometheus (instant query) until the single result satisfies <paramref name="done"/>; returns that value.</summary>
    private static async Task<double> WaitForAsync(HttpClient api, string query, Func<double, bool> done, Process prometheus, IEnumerable<string> log)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(prometheus.HasExited, "prometheus exited:\n" + string.Join('\n', log));
            try
            {
                using var response = await api.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(query));
                last = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode)
                {
                    var result = JsonDocument.Parse(last).RootElement.GetProperty("data").GetProperty("result");
                    if (result.GetArrayLength() == 1)
                    {
                        var value = double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                        if (done(value))
                            return value;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"Prometheus never answered {query} as expected; last answer: {last}\n" + string.Join('\n', log.TakeLast(20)));
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await errors);
    }
}
