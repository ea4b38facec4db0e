using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Scheduler.Abstractions;
using Scheduler.Modules.Workers.Executors;
using Scheduler.Modules.Workers.Pool;

namespace Scheduler.UnitTests.Workers;

public sealed class PluginLoadingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("scheduler-plugins-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string PluginDll()
    {
        // tests/Scheduler.UnitTests/bin/<config>/net10.0 -> tests/Scheduler.TestPlugin/bin/<config>/net10.0
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var config = here.Parent!.Name;
        var path = Path.GetFullPath(Path.Combine(here.FullName, "..", "..", "..", "..", "Scheduler.TestPlugin", "bin", config, "net10.0", "Scheduler.TestPlugin.dll"));
        Assert.True(File.Exists(path), $"test plugin not built at {path}");
        return path;
    }

    [Fact]
    public async Task LoadPlugins_FindsExecutorsInFolder_AndTheyRun()
    {
        File.Copy(PluginDll(), Path.Combine(_folder, "Scheduler.TestPlugin.dll"));
        var executors = ExecutorRegistry.LoadPlugins(_folder, new EmptyServices(), NullLogger.Instance).ToList();
        Assert.Equal(["echo", "throw_on_cancel"], executors.Select(e => e.Type).Order());
        var executor = executors.Single(e => e.Type == "echo");
        var log = new AttemptLog(10_000);
        var outcome = await executor.ExecuteAsync(new TaskExecutionContext
        {
            RunId = 7, DagName = "d", TaskId = "t", Attempt = 1, LogicalDate = DateTimeOffset.UnixEpoch, IdempotencyKey = "7:t:1",
            Task = new JsonObject { ["message"] = "hi" }, Params = [], Log = log, Connections = new NoConnections(),
        }, CancellationToken.None);
        Assert.Equal(TaskOutcomeKind.Success, outcome.Kind);
        Assert.Equal("echo: hi (7:t:1)\n", log.Take(final: true));
    }

    [Fact]
    public void LoadPlugins_SkipsBrokenAssemblies_AndMissingFolder()
    {
        File.WriteAllText(Path.Combine(_folder, "broken.dll"), "not an assembly");
        Assert.Empty(ExecutorRegistry.LoadPlugins(_folder, new EmptyServices(), NullLogger.Instance));
        Assert.Empty(ExecutorRegistry.LoadPlugins(Path.Combine(_folder, "missing"), new EmptyServices(), NullLogger.Instance));
    }

    private ExecutorRegistry Registry(ITaskExecutor[] builtIn, RecordingLogger logger) =>
        new(builtIn, new EmptyServices(), new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Workers:PluginsPath"] = _folder }).Build(), logger);

    [Fact]
    public void Registry_OffersBuiltInsAndPlugins_AndSkipsBrokenAndDuplicatePlugins()
    {
        File.Copy(PluginDll(), Path.Combine(_folder, "Scheduler.TestPlugin.dll"));
        // The same executor a second time under another file name: its type is taken by then.
        File.Copy(PluginDll(), Path.Combine(_folder, "Scheduler.TestPlugin.Copy.dll"));
        File.WriteAllText(Path.Combine(_folder, "broken.dll"), "not an assembly");
        var logger = new RecordingLogger();
        var registry = Registry([new NoopExecutor(), new ShellExecutor()], logger);
        Assert.Equal(["echo", "noop", "shell", "throw_on_cancel"], registry.Types.Order());
        Assert.True(registry.TryGet("echo", out var echo));
        Assert.Equal("Scheduler.TestPlugin.EchoExecutor", echo.GetType().FullName);
        Assert.False(registry.TryGet("nope", out _));
        Assert.False(registry.TryGet("needs_settings", out _));
        Assert.Contains(logger.Warnings, w => w.Contains("NeedsSettingsExecutor"));
        Assert.Equal(3, logger.Errors.Count);
        Assert.Contains(logger.Errors, e => e.Contains("broken.dll"));
        Assert.Contains(logger.Errors, e => e.Contains("'echo'") && e.Contains("taken"));
        Assert.Contains(logger.Errors, e => e.Contains("'throw_on_cancel'") && e.Contains("taken"));
    }

    [Fact]
    public void Registry_KeepsTheBuiltIn_WhenAPluginClaimsItsType()
    {
        File.Copy(PluginDll(), Path.Combine(_folder, "Scheduler.TestPlugin.dll"));
        var logger = new RecordingLogger();
        var builtIn = new FakeEcho();
        var registry = Registry([builtIn], logger);
        Assert.True(registry.TryGet("echo", out var echo));
        Assert.Same(builtIn, echo);
        Assert.Single(logger.Errors);
    }

    [Fact]
    public void Registry_HasOnlyBuiltIns_WhenThePluginsFolderIsMissing()
    {
        Directory.Delete(_folder);
        var logger = new RecordingLogger();
        var registry = Registry([new NoopExecutor()], logger);
        Assert.Equal(["noop"], registry.Types);
        Assert.Empty(logger.Errors);
        Directory.CreateDirectory(_folder);
    }

    [Fact]
    public void AttemptLog_CapsOutput_AndSaysHowMuchWasDropped()
    {
        var log = new AttemptLog(10);
        log.Write("0123456789abc");
        log.Write("more");
        Assert.Equal("0123456789\n--- log truncated: 7 more characters were dropped ---\n", log.Take(final: true));
    }

    private sealed class FakeEcho : ITaskExecutor
    {
        public string Type => "echo";

        public Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken) => Task.FromResult(TaskOutcome.Success());
    }

    private sealed class RecordingLogger : ILogger<ExecutorRegistry>
    {
        public List<string> Errors { get; } = [];
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
                Errors.Add(formatter(state, exception));
            else if (logLevel == LogLevel.Warning)
                Warnings.Add(formatter(state, exception));
        }
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }

    private sealed class NoConnections : IConnectionResolver
    {
        public Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken) => Task.FromResult<ResolvedConnection?>(null);
    }
}
