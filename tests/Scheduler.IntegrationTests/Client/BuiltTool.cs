using System.Diagnostics;

namespace Scheduler.IntegrationTests.Client;

/// <summary>What a finished process printed and returned.</summary>
public sealed record ToolResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Error}";
}

/// <summary>
/// Runs a program of the solution as it is built (<c>dotnet &lt;dll&gt;</c>), with its own
/// <c>XDG_CONFIG_HOME</c> so nothing is read from or written to the real user's settings.
/// </summary>
public sealed class BuiltTool(string projectFolder, string assembly) : IDisposable
{
    public string ConfigHome { get; } = Directory.CreateTempSubdirectory("scheduler-cli-config-").FullName;

    public static BuiltTool Cli() => new(Path.Combine("src", "Scheduler.Cli"), "Scheduler.Cli.dll");

    public static BuiltTool DeployDagSample() => new(Path.Combine("samples", "DeployDag"), "DeployDag.dll");

    private string Dll()
    {
        // The test assembly's configuration (Release under test.sh).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.Combine(OpenApiClientTests.RepositoryRoot(), projectFolder, "bin", configuration, "net10.0", assembly);
        Assert.True(File.Exists(dll), $"{dll} is not built");
        return dll;
    }

    public async Task<ToolResult> RunAsync(params string[] arguments) => await RunAsync(arguments, TimeSpan.FromSeconds(60));

    public async Task<ToolResult> RunAsync(string[] arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Dll());
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["XDG_CONFIG_HOME"] = ConfigHome;
        start.Environment["NO_COLOR"] = "1";
        start.Environment.Remove("SCHEDULER_URL");
        start.Environment.Remove("SCHEDULER_API_KEY");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{assembly} {string.Join(' ', arguments)} still running after {timeout}: {await stdout}");
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose() => Directory.Delete(ConfigHome, recursive: true);
}
