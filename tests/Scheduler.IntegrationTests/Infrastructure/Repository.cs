namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>The repository the tests were built from (the folder holding Scheduler.sln).</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Scheduler.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException($"no Scheduler.sln above {AppContext.BaseDirectory}");
    }
}
