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
            Type[] candidates;
            try
            {
                var assembly = new PluginLoadContext(file).LoadFromAssemblyPath(file);
                candidates = assembly.GetExportedTypes().Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false } && typeof(ITaskExecutor).IsAssignableFrom(t)).ToArray();
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException or ReflectionTypeLoadException or TypeLoadException or IOException)
            {
                logger.LogError(e, "Plugin {File} could not be loaded; skipped", file);
                continue;
            }
            // Each executor class stands alone: one that cannot be created does not take its neighbours down.
            var found = new List<ITaskExecutor>();
            foreach (var type in candidates)
            {
                var withServices = type.GetConstructor([typeof(IServiceProvider)]);
                var parameterless = type.GetConstructor(Type.EmptyTypes);
                if (withServices is null && parameterless is null)
                {
                    logger.LogWarning("Plugin executor {Executor} in {File} has neither a public parameterless constructor nor one taking IServiceProvider; skipped", type.FullName, file);
                    continue;
                }
                try
                {
                    var executor = (ITaskExecutor)(withServices is not null ? withServices.Invoke([services]) : parameterless!.Invoke([]));
                    if (string.IsNullOrWhiteSpace(executor.Type))
                        throw new InvalidOperationException("its Type is empty");
                    found.Add(executor);
                }
                // Third-party code runs here: whatever it throws, the server still starts without it.
                catch (Exception e)
                {
                    logger.LogError(e, "Plugin executor {Executor} in {File} could not be created; skipped", type.FullName, file);
                }
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
