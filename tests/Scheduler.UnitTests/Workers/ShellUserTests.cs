using System.Text.Json.Nodes;
using Scheduler.Abstractions;
using Scheduler.Modules.Workers.Executors;
using static Scheduler.UnitTests.Workers.ExecutorTestKit;

namespace Scheduler.UnitTests.Workers;

/// <summary>Workers:Shell:RunAsUser with real processes: the task runs as that user, who cannot read this process's environment.</summary>
public sealed class ShellUserTests
{
    private static bool IsRoot => Environment.UserName == "root";

    [Fact]
    public async Task Execute_RunsAsTheConfiguredUser_WhoCannotReadTheServersEnvironment()
    {
        var shell = new ShellExecutor(ShellUser.Resolve("nobody"));
        var log = new RecordingLog();
        var task = new JsonObject
        {
            ["command"] = $"""
                id -un
                cat /proc/{Environment.ProcessId}/environ >/dev/null 2>&1 && echo READABLE || echo DENIED
                touch in-my-folder && echo WROTE
                echo "HOME=$HOME USER=$USER"
                """,
        };
        if (!IsRoot)
        {
            // Switching users needs root: refused with the reason, not run as the server's user.
            var refused = await Assert.ThrowsAsync<IOException>(() => shell.ExecuteAsync(Context(task, log), CancellationToken.None));
            Assert.Contains("needs the server to run as root", refused.Message);
            return;
        }
        var outcome = await shell.ExecuteAsync(Context(task, log), CancellationToken.None);
        Assert.True(outcome.Kind == TaskOutcomeKind.Success, log.Text);
        Assert.Contains("nobody\n", log.Text);
        Assert.Contains("DENIED\n", log.Text);
        Assert.Contains("WROTE\n", log.Text);
        Assert.Contains("HOME=/nonexistent USER=nobody", log.Text);
    }

    [Fact]
    public void Resolve_NamesTheSetting_WhenTheUserDoesNotExist()
    {
        Assert.Null(ShellUser.Resolve(" "));
        var e = Assert.Throws<InvalidOperationException>(() => ShellUser.Resolve("no-such-user-for-scheduler"));
        Assert.Contains("Workers:Shell:RunAsUser", e.Message);
    }
}
