using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Client;

/// <summary>The built <c>scheduler</c> tool as a process against the real server.</summary>
public sealed class CliTests(ServerFixture server) : ServerTest(server), IDisposable
{
    private readonly BuiltTool _cli = BuiltTool.Cli();
    private readonly string _files = Directory.CreateTempSubdirectory("scheduler-cli-dags-").FullName;

    private async Task LoginAsync()
    {
        var login = await _cli.RunAsync("login", "--url", Server.BaseAddress.AbsoluteUri, "--key", ServerFixture.BootstrapKey);
        Assert.True(login.ExitCode == 0, login.ToString());
    }

    private async Task<ToolResult> OkAsync(params string[] arguments)
    {
        var result = await _cli.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [Fact]
    public async Task Login_StoresTheKeyOwnerOnly_AndRefusesABadKey()
    {
        var refused = await _cli.RunAsync("login", "--url", Server.BaseAddress.AbsoluteUri, "--key", "sk_wrong_key_000000000000000000000");
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("401", refused.Error);
        Assert.False(File.Exists(Path.Combine(_cli.ConfigHome, "scheduler", "api-key")));

        await LoginAsync();
        var key = Path.Combine(_cli.ConfigHome, "scheduler", "api-key");
        Assert.Equal(ServerFixture.BootstrapKey, await File.ReadAllTextAsync(key));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.Contains(Server.BaseAddress.Authority, await File.ReadAllTextAsync(Path.Combine(_cli.ConfigHome, "scheduler", "config.json")));
    }

    [Fact]
    public async Task BadUsage_Exits2()
    {
        Assert.Equal(2, (await _cli.RunAsync("dags", "list")).ExitCode); // not logged in
        await LoginAsync();
        Assert.Equal(2, (await _cli.RunAsync("runs", "trigger", "x", "--conf", "{not json")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("runs", "trigger", "x", "--conf", "[1]")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("no-such-command")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("dags", "list", "--output", "xml")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("dags", "apply")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("runs", "watch", "not-a-number")).ExitCode);
        Assert.Equal(2, (await _cli.RunAsync("backfill", "x", "--from", "2026-01-02")).ExitCode);
    }

    [Fact]
    public async Task Apply_CreatesShowsChangesAndIsIdempotent()
    {
        await LoginAsync();
        await File.WriteAllTextAsync(Path.Combine(_files, "a.json"), """{"name":"cli_json","cron":"0 9 * * *","tasks":[{"id":"one"},{"id":"two","depends_on":["one"]}]}""");
        var yaml = Path.Combine(_files, "nested", "b.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(yaml)!);
        await File.WriteAllTextAsync(yaml, "name: cli_yaml\ncatchup: false\nmax_active_runs: 2\ntasks:\n  - id: shell\n    type: shell\n    command: \"echo 1\"\n    retries: 2\n");

        var first = await OkAsync("dags", "apply", "-f", _files);
        Assert.Contains("created cli_json", first.Out);
        Assert.Contains("created cli_yaml", first.Out);
        Assert.Contains("2 created, 0 updated, 0 unchanged", first.Out);

        var second = await OkAsync("dags", "apply", "-f", _files);
        Assert.Contains("unchanged cli_json", second.Out);
        Assert.Contains("Nothing changed.", second.Out);

        await File.WriteAllTextAsync(yaml, "name: cli_yaml\ncatchup: false\nmax_active_runs: 3\ntasks:\n  - id: shell\n    type: shell\n    command: \"echo 1\"\n    retries: 2\n  - id: after\n    depends_on: [shell]\n");
        var third = await OkAsync("dags", "apply", "-f", yaml);
        Assert.Contains("updated cli_yaml (version 1 -> 2)", third.Out);
        Assert.Contains("~ max_active_runs: 2 -> 3", third.Out);
        Assert.Contains("+ tasks[after]", third.Out);

        await File.WriteAllTextAsync(Path.Combine(_files, "bad.json"), """{"name":"cli_bad","tasks":[{"id":"a","depends_on":["ghost"]}]}""");
        var bad = await _cli.RunAsync("dags", "apply", "-f", _files);
        Assert.True(bad.ExitCode == 1, bad.ToString());
        Assert.Contains("ghost", bad.Error);
        Assert.Contains("1 failed", bad.Out);
    }

    [Fact]
    public async Task ListAndShow_AsTablesAndJson()
    {
        await LoginAsync();
        await File.WriteAllTextAsync(Path.Combine(_files, "d.json"), """{"name":"cli_listed","description":"listed","tasks":[{"id":"x"}]}""");
        await OkAsync("dags", "apply", "-f", _files);

        Assert.Contains("cli_listed", (await OkAsync("dags", "list")).Out);
        var list = JsonDocument.Parse((await OkAsync("dags", "list", "--output", "json")).Out).RootElement;
        Assert.Contains(list.EnumerateArray(), d => d.GetProperty("name").GetString() == "cli_listed");
        Assert.Contains("listed", (await OkAsync("dags", "show", "cli_listed")).Out);
        var shown = JsonDocument.Parse((await OkAsync("dags", "show", "cli_listed", "-o", "json")).Out).RootElement;
        Assert.Equal("x", shown.GetProperty("definition").GetProperty("tasks")[0].GetProperty("id").GetString());
        var missing = await _cli.RunAsync("dags", "show", "nope");
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("404", missing.Error);
    }

    [Fact]
    public async Task TriggerWatchAndLogs_ExitByTheRunsOutcome()
    {
        await LoginAsync();
        await File.WriteAllTextAsync(Path.Combine(_files, "ok.json"), """{"name":"cli_ok","params":{"who":"nobody"},"tasks":[{"id":"say","type":"shell","command":"echo hello from cli"},{"id":"next","depends_on":["say"]}]}""");
        await File.WriteAllTextAsync(Path.Combine(_files, "ko.json"), """{"name":"cli_ko","tasks":[{"id":"boom","type":"shell","command":"echo going down; exit 3"}]}""");
        await OkAsync("dags", "apply", "-f", _files);

        var triggered = JsonDocument.Parse((await OkAsync("runs", "trigger", "cli_ok", "--conf", """{"who":"ci"}""", "--output", "json")).Out).RootElement;
        var runId = triggered.GetProperty("run_id").GetInt64().ToString();
        Assert.Equal("ci", triggered.GetProperty("conf").GetProperty("who").GetString());
        var watched = await OkAsync("runs", "watch", runId, "--interval", "0.2");
        Assert.Contains("say success", watched.Out);
        Assert.Contains($"run {runId} success", watched.Out);
        Assert.Contains("hello from cli", (await OkAsync("runs", "logs", runId, "say")).Out);

        var failing = await OkAsync("runs", "trigger", "cli_ko");
        var failedId = System.Text.RegularExpressions.Regex.Match(failing.Out, @"run (\d+)").Groups[1].Value;
        var follow = await _cli.RunAsync("runs", "logs", failedId, "boom", "--follow");
        Assert.True(follow.ExitCode == 1, follow.ToString());
        Assert.Contains("going down", follow.Out);
        var watchFailed = await _cli.RunAsync("runs", "watch", failedId, "--interval", "0.2");
        Assert.True(watchFailed.ExitCode == 1, watchFailed.ToString());
        Assert.Contains($"run {failedId} failed", watchFailed.Out);
    }

    /// <summary>Against a server without the backfill endpoint, a clear error; with it, the dry run's dates.</summary>
    [Fact]
    public async Task Backfill_DryRun_OrAClearErrorFromAnOlderServer()
    {
        await LoginAsync();
        await File.WriteAllTextAsync(Path.Combine(_files, "bf.json"), """{"name":"cli_backfill","cron":"0 0 * * *","tasks":[{"id":"a"}]}""");
        await OkAsync("dags", "apply", "-f", _files);

        var result = await _cli.RunAsync("backfill", "cli_backfill", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-03T00:00:00Z", "--dry-run");
        if (result.ExitCode == 0)
            Assert.Contains("2026-01-02", result.Out);
        else
        {
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("does not support backfills", result.Error);
        }
        var missing = await _cli.RunAsync("backfill", "no_such_dag", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-03T00:00:00Z", "--dry-run");
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.DoesNotContain("does not support backfills", missing.Error);
    }

    public void Dispose()
    {
        _cli.Dispose();
        Directory.Delete(_files, recursive: true);
    }
}
