using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Scheduler.Abstractions;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// <c>bash -c &lt;command&gt;</c> in a process group of its own (via setsid), so a timeout or a
/// cancel kills the whole tree, background children included: SIGTERM to the group, SIGKILL
/// after a grace period. The same happens to what is left in the group when the shell exits.
/// Output is streamed into the attempt's log as it arrives. The
/// server's own secrets (connection strings, keys) are not passed on to tasks. Values too
/// large for the environment arrive as files (<see cref="TaskEnvironment"/>).
/// </summary>
internal sealed partial class ShellExecutor(ShellUser? user = null) : ITaskExecutor
{
    public const int DefaultSkipExitCode = 99;
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(3);
    private static readonly string[] WithheldPrefixes = Infrastructure.Security.ServerSecrets.Prefixes;

    public string Type => "shell";

    public async Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken)
    {
        var command = context.Task["command"]?.GetValue<string>() ?? throw new InvalidOperationException("a shell task needs 'command'");
        var skipCode = context.Task["skip_exit_code"]?.GetValue<int>() ?? DefaultSkipExitCode;
        var workingDir = context.Task["working_dir"]?.GetValue<string>();
        if (workingDir is not null && !Directory.Exists(workingDir))
            return TaskOutcome.Failed($"working_dir '{workingDir}' does not exist");
        // The attempt's own folder (0700): the files of values too large for the environment,
        // and the working directory ("work") of a task that names none. Deleted afterwards.
        var scratch = Directory.CreateTempSubdirectory("scheduler-task-").FullName;
        if (workingDir is null)
            workingDir = Directory.CreateDirectory(Path.Combine(scratch, "work")).FullName;

        var start = new ProcessStartInfo
        {
            FileName = File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "setsid",
            WorkingDirectory = workingDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("bash");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        foreach (var key in start.Environment.Keys.Where(k => WithheldPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList())
            start.Environment.Remove(key);
        var environment = new TaskEnvironment(start.Environment, scratch);
        environment.Set("SCHEDULER_IDEMPOTENCY_KEY", context.IdempotencyKey);
        environment.Set("SCHEDULER_RUN_ID", context.RunId.ToString(CultureInfo.InvariantCulture));
        environment.Set("SCHEDULER_TASK_ID", context.TaskId);
        environment.Set("SCHEDULER_DAG", context.DagName);
        environment.Set("SCHEDULER_ATTEMPT", context.Attempt.ToString(CultureInfo.InvariantCulture));
        environment.Set("SCHEDULER_LOGICAL_DATE", context.LogicalDate.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        environment.SetWithFile("SCHEDULER_PARAMS", context.Params.ToJsonString());
        // The task's output: JSON the task writes to this file (docs/authoring.md).
        var outputFile = Path.Combine(scratch, "output.json");
        environment.Set("SCHEDULER_OUTPUT", outputFile);
        if (context.TraceParent is not null)
            environment.Set("TRACEPARENT", context.TraceParent);
        if (context.Task["env"] is JsonObject env)
            foreach (var (key, value) in env)
                environment.Set(key, value?.GetValue<string>() ?? "");

        using var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outputDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errorDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.Exited += (_, _) => exited.TrySetResult();
        process.OutputDataReceived += (_, e) => { if (e.Data is null) outputDone.TrySetResult(); else context.Log.Write(e.Data + "\n"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is null) errorDone.TrySetResult(); else context.Log.Write(e.Data + "\n"); };
        try
        {
            if (user is not null)
            {
                user.Apply(start);
                if (scratch is not null)
                    user.Own(scratch);
            }
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var pid = process.Id;
            using (cancellationToken.Register(() => _ = KillGroupAsync(pid, exited.Task)))
                await exited.Task;
            // The attempt is over when the shell exits: what it left running in its group (e.g. `cmd &`)
            // is ended too, so finished attempts cannot pile up processes on the worker or hold its
            // pipes. A task that means to leave a daemon behind must detach it into a session of its own.
            if (!cancellationToken.IsCancellationRequested)
                _ = KillGroupAsync(pid, exited.Task);
            // Output still buffered is read; a pipe held open by an escaped grandchild is not waited for long.
            await Task.WhenAny(Task.WhenAll(outputDone.Task, errorDone.Task), Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            cancellationToken.ThrowIfCancellationRequested();
            var code = process.ExitCode;
            if (code != 0 && code != skipCode)
                return TaskOutcome.Failed($"exit code {code}", code);
            var (output, outputError) = await TaskOutputs.ReadFileAsync(outputFile, "$SCHEDULER_OUTPUT", cancellationToken);
            if (outputError is not null)
                return TaskOutcome.Failed(outputError, code);
            return (code == 0 ? TaskOutcome.Success(code) : TaskOutcome.Skipped(code)) with { Output = output };
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>SIGTERM to the task's process group, then SIGKILL if it is still there after the grace period.</summary>
    private static async Task KillGroupAsync(int pid, Task exited)
    {
        _ = Kill(-pid, 15);
        if (await Task.WhenAny(exited, Task.Delay(KillGrace)) != exited)
            _ = Kill(-pid, 9);
        // Members of the group outlive its leader for a moment (or ignore SIGTERM): make sure.
        await Task.Delay(KillGrace);
        _ = Kill(-pid, 9);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
