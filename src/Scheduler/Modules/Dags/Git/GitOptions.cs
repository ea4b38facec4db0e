namespace Scheduler.Modules.Dags.Git;

/// <summary>
/// <c>Dags:Git</c>: the repository whose JSON/YAML files are the DAGs. Without
/// <see cref="Repository"/> nothing is polled and <c>POST /dags/sync</c> answers 409.
/// </summary>
internal sealed class GitOptions
{
    public const string Section = "Dags:Git";

    /// <summary>Any URL the git CLI fetches from (https, ssh, <c>file://</c>).</summary>
    public string? Repository { get; set; }
    public string Branch { get; set; } = "main";
    /// <summary>The folder of the repository holding the DAG files (every file under it); empty: the whole repository.</summary>
    public string Path { get; set; } = "";
    public double PollSeconds { get; set; } = 60;
    /// <summary>Where this process keeps its bare copy; default: a folder under the temp path, one per process.</summary>
    public string? CacheFolder { get; set; }
    public double CommandTimeoutSeconds { get; set; } = 120;

    /// <summary>The path as git names it: forward slashes, no leading or trailing slash.</summary>
    public string NormalisedPath => Path.Replace('\\', '/').Trim('/');
}
