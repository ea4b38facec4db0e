using System.Diagnostics;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>A real git repository in a temp folder, made and changed with the git CLI; served by its file:// URL.</summary>
public sealed class GitRepository : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("scheduler-it-git-").FullName;
    public string Url => new Uri(Folder).AbsoluteUri;

    public GitRepository()
    {
        Git("init", "--quiet", "--initial-branch=main");
        Git("config", "user.email", "tests@example.test");
        Git("config", "user.name", "tests");
        Git("config", "commit.gpgsign", "false");
    }

    /// <summary>Writes (or, with null content, deletes) the files and commits them; returns the commit id.</summary>
    public string Commit(string message, params (string Path, string? Content)[] files)
    {
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(Folder, path);
            if (content is null)
                File.Delete(full);
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.WriteAllText(full, content);
            }
        }
        Git("add", "--all");
        Git("commit", "--quiet", "--allow-empty", "-m", message);
        return Git("rev-parse", "HEAD").Trim();
    }

    private string Git(params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {error}");
        return output;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
