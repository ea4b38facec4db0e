using System.Diagnostics;
using System.Text.Json.Nodes;
using Scheduler.Abstractions;
using Scheduler.Modules.Workers.Executors;
using static Scheduler.UnitTests.Workers.ExecutorTestKit;

namespace Scheduler.UnitTests.Workers;

/// <summary>The shell executor on its own: real bash processes, no server, no database.</summary>
public sealed class ShellExecutorTests : IDisposable
{
    private readonly ShellExecutor _shell = new();
    private readonly string _scratch = Directory.CreateTempSubdirectory("scheduler-shell-test-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private async Task<(TaskOutcome Outcome, string Log)> RunAsync(JsonObject task, CancellationToken ct = default)
    {
        var log = new RecordingLog();
        var outcome = await _shell.ExecuteAsync(Context(task, log), ct);
        return (outcome, log.Text);
    }

    [Fact]
    public async Task Execute_Succeeds_WhenExitCodeIsZero()
    {
        var (outcome, log) = await RunAsync(new JsonObject { ["command"] = "echo out; echo err >&2" });
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
        Assert.Equal(0, outcome.Code);
        Assert.Contains("out\n", log);
        Assert.Contains("err\n", log);
    }

    [Fact]
    public async Task Execute_FailsWithTheExitCode_WhenCommandFails()
    {
        var (outcome, _) = await RunAsync(new JsonObject { ["command"] = "exit 3" });
        Assert.Equal(TaskOutcomeKind.Failed, outcome.Kind);
        Assert.Equal(3, outcome.Code);
        Assert.Equal("exit code 3", outcome.Error);
    }

    [Fact]
    public async Task Execute_Skips_WhenExitCodeIs99ByDefault()
    {
        var (outcome, _) = await RunAsync(new JsonObject { ["command"] = "exit 99" });
        Assert.Equal(TaskOutcomeKind.Skipped, outcome.Kind);
        Assert.Equal(99, outcome.Code);
    }

    [Fact]
    public async Task Execute_UsesCustomSkipCode_WhenSkipExitCodeIsSet()
    {
        var (skipped, _) = await RunAsync(new JsonObject { ["command"] = "exit 7", ["skip_exit_code"] = 7 });
        Assert.Equal(TaskOutcomeKind.Skipped, skipped.Kind);
        var (failed, _) = await RunAsync(new JsonObject { ["command"] = "exit 99", ["skip_exit_code"] = 7 });
        Assert.Equal(TaskOutcomeKind.Failed, failed.Kind);
        Assert.Equal(99, failed.Code);
    }

    [Fact]
    public async Task Execute_PassesSchedulerVariablesAndTaskEnv_WhenRunning()
    {
        Environment.SetEnvironmentVariable("SCHEDULER_UNIT_INHERITED", "from-server");
        var (outcome, log) = await RunAsync(new JsonObject
        {
            ["command"] = "echo \"key=$SCHEDULER_IDEMPOTENCY_KEY run=$SCHEDULER_RUN_ID task=$SCHEDULER_TASK_ID attempt=$SCHEDULER_ATTEMPT date=$SCHEDULER_LOGICAL_DATE dag=$SCHEDULER_DAG\"; echo \"greeting=$GREETING inherited=$SCHEDULER_UNIT_INHERITED\"",
            ["env"] = new JsonObject { ["GREETING"] = "hello world" },
        });
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
        Assert.Contains("key=42:t1:1 run=42 task=t1 attempt=1 date=2026-03-01T02:05:06Z dag=unit_dag\n", log);
        Assert.Contains("greeting=hello world inherited=from-server\n", log);
    }

    [Fact]
    public async Task Execute_RunsInWorkingDir_WhenWorkingDirIsSet()
    {
        var (outcome, log) = await RunAsync(new JsonObject { ["command"] = "pwd", ["working_dir"] = _scratch });
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
        Assert.Equal(Path.GetFullPath(_scratch) + "\n", log);
        var (missing, _) = await RunAsync(new JsonObject { ["command"] = "pwd", ["working_dir"] = Path.Combine(_scratch, "nope") });
        Assert.Equal(TaskOutcomeKind.Failed, missing.Kind);
    }

    [Fact]
    public async Task Execute_StreamsOutput_WhileTheProcessRuns()
    {
        var log = new RecordingLog();
        var running = _shell.ExecuteAsync(Context(new JsonObject { ["command"] = "echo first; sleep 1.5; echo second" }, log), CancellationToken.None);
        Assert.True(await EventuallyAsync(() => log.Text.Contains("first"), TimeSpan.FromSeconds(1.2)), "output did not arrive while the task ran");
        Assert.False(running.IsCompleted);
        Assert.DoesNotContain("second", log.Text);
        Assert.Equal(TaskOutcomeKind.Success, (await running).Kind);
        Assert.Equal("first\nsecond\n", log.Text);
    }

    [Fact]
    public async Task Execute_KillsTheWholeProcessTree_WhenCancelled()
    {
        var pids = Path.Combine(_scratch, "pids");
        // The shell, a background child, and an orphan re-parented away from the shell (double fork).
        var command = $"echo $$ >> {pids}; sleep 300 & echo $! >> {pids}; (sleep 300 & echo $! >> {pids}); sleep 300";
        using var cancel = new CancellationTokenSource();
        var running = _shell.ExecuteAsync(Context(new JsonObject { ["command"] = command }, new RecordingLog()), cancel.Token);
        Assert.True(await EventuallyAsync(() => File.Exists(pids) && File.ReadAllLines(pids).Length == 3, TimeSpan.FromSeconds(3)));
        var tree = File.ReadAllLines(pids).Select(int.Parse).ToList();
        Assert.All(tree, pid => Assert.True(IsAlive(pid), $"process {pid} should be running before the cancel"));

        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await EventuallyAsync(() => !tree.Any(IsAlive), TimeSpan.FromSeconds(3)),
            $"still alive: {string.Join(", ", tree.Where(IsAlive))}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Execute_ReturnsPromptlyAndEndsLeftovers_WhenTheShellExitsBeforeItsChildren()
    {
        var pids = Path.Combine(_scratch, "pids");
        var clock = Stopwatch.StartNew();
        // The background sleep keeps stdout open after the shell has exited.
        var (outcome, log) = await RunAsync(new JsonObject { ["command"] = $"sleep 300 & echo $! > {pids}; echo done" });
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
        Assert.Equal("done\n", log);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        var leftover = int.Parse(File.ReadAllText(pids).Trim());
        Assert.True(await EventuallyAsync(() => !IsAlive(leftover), TimeSpan.FromSeconds(3)), $"leftover {leftover} still alive");
    }

    /// <summary>Running or sleeping; a zombie (dead, not yet reaped by whoever adopted it) does not count.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
