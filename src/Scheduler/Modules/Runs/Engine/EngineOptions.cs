namespace Scheduler.Modules.Runs.Engine;

/// <summary>The engine's settings, read once at start-up.</summary>
/// <param name="MaxDeliveries">
/// <c>Workers:MaxDeliveries</c>: how many deliveries of one attempt may lose their worker (the
/// lease expires) before the task fails instead of being requeued; hand-backs on graceful
/// shutdown do not count. Read from configuration here, not from the Workers module's
/// options, which are that module's own.
/// </param>
internal sealed record EngineOptions(int MaxDeliveries)
{
    public const int DefaultMaxDeliveries = 3;

    public static EngineOptions From(IConfiguration configuration)
    {
        var max = configuration.GetValue("Workers:MaxDeliveries", DefaultMaxDeliveries);
        if (max < 1)
            throw new InvalidOperationException($"Workers:MaxDeliveries must be at least 1, not {max}.");
        return new EngineOptions(max);
    }
}
