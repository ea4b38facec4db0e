using System.Reflection;
using System.Runtime.Loader;
using Scheduler.Abstractions;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// The executors by task type: the built-ins and the plugins found at start-up in
/// <c>Workers:PluginsPath</c> (default: <c>plugins</c> next to the server). Each plugin
/// assembly loads in its own context that shares Scheduler.Abstractions with the host, so
/// its types implement the host's interface. A plugin that fails to load, or claims a type
/// already taken, is logged and skipped: the server still starts.
/// </summary>
internal sealed class ExecutorRegistry
{
    private readonly Dictionary<string, ITaskExecutor> _executors = new(StringComparer.Ordinal);

    public ExecutorRegistry(IEnumerable<ITaskExecutor> builtIn, IServiceProvider services, IConfiguration configuration, ILogger<ExecutorRegistry> logger)
    {
        foreach (var executor in builtIn)
            _executors[executor.Type] = executor;
        var folder = configuration["Workers:PluginsPath"] is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(AppContext.BaseDirectory, "plugins");
        foreach (var plugin in LoadPlugins(folder, services, logger))
        {
            if (!_executors.TryAdd(plugin.Type, plugin))
                logger.LogError("Plugin executor {Executor} claims task type '{Type}', which is taken; skipped", plugin.GetType().FullName, plugin.Type);
            else
                logger.LogInformation("Plugin executor {Executor} handles task type '{Type}'", plugin.GetType().FullName, plugin.Type);
        }
        Types = _executors.Keys.ToHashSet(StringComparer.Ordinal);
    }

    public IReadOnlySet<string> Types { get; }

    public bool TryGet(string type, out ITaskExecutor executor) => _executors.TryGetValue(type, out executor!);

    internal static IEnumerable<ITaskExecutor> LoadPlugins(string folder, IServiceProvider services, ILogger logger)
    {
        if (!Directory.Exists(folder))
            yield break;
        foreach (var file in Directory.EnumerateFiles(folder, "*.dll").Order())
        {
            if (Path.GetFileName(file) == "Scheduler.Abstractions.dll")
                continue;
            List<ITaskExecutor> found;
            try
            {
                var assembly = new PluginLoadContext(file).LoadFromAssemblyPath(file);
                found = [];
                foreach (var type in assembly.GetExportedTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(ITaskExecutor).IsAssignableFrom(t)))
                {
                    var instance = type.GetConstructor([typeof(IServiceProvider)]) is { } withServices
                        ? withServices.Invoke([services])
                        : Activator.CreateInstance(type);
                    found.Add((ITaskExecutor)instance!);
                }
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException or ReflectionTypeLoadException or MissingMethodException or TargetInvocationException or TypeLoadException or IOException)
            {
                logger.LogError(e, "Plugin {File} could not be loaded; skipped", file);
                continue;
            }
            foreach (var executor in found)
                yield return executor;
        }
    }

    /// <summary>Resolves a plugin's own dependencies from its folder; Scheduler.Abstractions from the host.</summary>
    private sealed class PluginLoadContext(string path) : AssemblyLoadContext(Path.GetFileNameWithoutExtension(path), isCollectible: false)
    {
        private readonly AssemblyDependencyResolver _resolver = new(path);

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name == typeof(ITaskExecutor).Assembly.GetName().Name)
                return null;
            return _resolver.ResolveAssemblyToPath(name) is { } resolved ? LoadFromAssemblyPath(resolved) : null;
        }
    }
}
