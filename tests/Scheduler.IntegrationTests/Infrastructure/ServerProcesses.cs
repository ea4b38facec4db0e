using System.Diagnostics;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// Real server processes (the built Scheduler.dll, as a replica would run it) started by a
/// test, each on a free loopback port; disposing kills the ones still running.
/// </summary>
public sealed class ServerProcesses : IDisposable
{
    private readonly List<Process> _processes = [];

    public static string ServerDll()
    {
        var local = Path.Combine(AppContext.BaseDirectory, "Scheduler.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "Scheduler.runtimeconfig.json")))
            return local;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            foreach (var config in new[] { "Release", "Debug" })
            {
                var candidate = Path.Combine(dir.FullName, "src", "Scheduler", "bin", config, "net10.0", "Scheduler.dll");
                if (File.Exists(candidate))
                    return candidate;
            }
        throw new FileNotFoundException("Scheduler.dll not found");
    }

    /// <summary>
    /// Starts a server on <paramref name="connection"/> with the bootstrap admin key
    /// <paramref name="key"/> and <paramref name="settings"/> as environment variables; returns
    /// once /health/ready answers, with a client for /api/v1 carrying the key.
    /// </summary>
    public async Task<(Process Process, HttpClient Client)> StartAsync(string connection, string key, IReadOnlyDictionary<string, string> settings)
    {
        var port = Loopback.FreePort();
        var dll = ServerDll();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["ConnectionStrings__Scheduler"] = connection;
        start.Environment["Auth__BootstrapAdminKey"] = key;
        start.Environment["Secrets__MasterKey"] = ServerFixture.MasterKey;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        // gRPC on a port of its own (the default 5081 is one per machine), bound in code next
        // to the ASPNETCORE_URLS address, as in production.
        start.Environment["Grpc__Port"] = Loopback.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, value) in settings)
            start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/v1/") };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var ready = await client.GetAsync($"http://127.0.0.1:{port}/health/ready");
                if (ready.IsSuccessStatusCode)
                    return (process, client);
            }
            catch (HttpRequestException)
            {
            }
            Assert.False(process.HasExited, "the server process exited during start-up");
            await Task.Delay(200);
        }
        throw new TimeoutException("the server process did not become ready");
    }

    public void Dispose()
    {
        foreach (var process in _processes.Where(p => !p.HasExited))
            process.Kill();
    }
}
