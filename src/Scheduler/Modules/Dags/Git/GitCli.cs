using System.Diagnostics;
using System.Text;
using Scheduler.Infrastructure.Text;

namespace Scheduler.Modules.Dags.Git;

/// <summary>A git command that failed; the message is git's own (credentials in URLs masked).</summary>
internal sealed class GitException(string message) : Exception(message);

/// <summary>
/// The git CLI over a bare copy of the repository in <paramref name="folder"/>: fetch the branch,
/// list the files of a commit, read one file. No work tree is checked out, so nothing on disk
/// can be half-updated, and files are read exactly as committed.
/// </summary>
internal sealed class GitCli(string folder, TimeSpan timeout)
{
    private const string SyncRef = "refs/scheduler/sync";

    /// <summary>Fetches the branch and returns the commit it points to.</summary>
    public async Task<string> FetchAsync(string repository, string branch, CancellationToken ct)
    {
        if (repository.StartsWith('-') || branch.StartsWith('-'))
            throw new GitException("The repository URL and the branch must not start with '-'.");
        if (!File.Exists(System.IO.Path.Combine(folder, "HEAD")))
        {
            Directory.CreateDirectory(folder);
            await RunAsync(["init", "--quiet", "--bare", folder], ct, inRepository: false);
        }
        await RunAsync(["fetch", "--quiet", "--no-tags", "--force", "--end-of-options", repository, $"+refs/heads/{branch}:{SyncRef}"], ct);
        return (await RunTextAsync(["rev-parse", "--verify", "--end-of-options", SyncRef + "^{commit}"], ct)).Trim();
    }

    /// <summary>Every file (blob) of the commit under the path, repository-relative.</summary>
    public async Task<IReadOnlyList<string>> ListFilesAsync(string commit, string path, CancellationToken ct)
    {
        List<string> args = ["ls-tree", "-r", "-z", "--name-only", "--end-of-options", commit];
        if (path.Length > 0)
            args.AddRange(["--", path + "/"]);
        var text = await RunTextAsync(args, ct);
        return text.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    public async Task<byte[]> ReadFileAsync(string commit, string file, CancellationToken ct) =>
        await RunAsync(["cat-file", "blob", $"{commit}:{file}"], ct);

    private async Task<string> RunTextAsync(IReadOnlyList<string> args, CancellationToken ct) =>
        Encoding.UTF8.GetString(await RunAsync(args, ct));

    private async Task<byte[]> RunAsync(IReadOnlyList<string> args, CancellationToken ct, bool inRepository = true)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (inRepository)
        {
            start.ArgumentList.Add("--git-dir");
            start.ArgumentList.Add(folder);
        }
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // Never ask for credentials on a terminal, never read the server's own git config.
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_ASKPASS"] = "true";

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutSource.CancelAfter(timeout);
        using var process = Process.Start(start) ?? throw new GitException("git could not be started.");
        process.StandardInput.Close();
        using var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output, timeoutSource.Token);
        var error = process.StandardError.ReadToEndAsync(timeoutSource.Token);
        try
        {
            await Task.WhenAll(copy, error, process.WaitForExitAsync(timeoutSource.Token));
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (ct.IsCancellationRequested)
                throw;
            throw new GitException($"git {args[0]} did not finish within {timeout.TotalSeconds:0} s.");
        }
        if (process.ExitCode != 0)
            throw new GitException($"git {args[0]} failed ({process.ExitCode}): {SecretMask.Mask((await error).Trim())}");
        return output.ToArray();
    }
}
