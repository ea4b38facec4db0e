using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// A second server on the test database, for settings the shared fixture must not have (low
/// rate limits, trusted proxies, no bootstrap key). It is a replica that serves HTTP only:
/// no worker, no scheduler loop, no delivery server, so it never takes work from the fixture's.
/// </summary>
public sealed class ExtraServer : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;

    public Uri BaseAddress { get; }
    public IServiceProvider Services => _factory.Services;

    public ExtraServer(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Workers:Enabled"] = "false",
            ["Scheduler:Enabled"] = "false",
            ["Notifications:RunDeliveryServer"] = "false",
        };
        foreach (var (key, value) in settings)
            all[key] = value;
        // Hangfire keeps its storage in a static (JobStorage.Current) that every host's start
        // overwrites: the fixture's server must keep its own, not this one's (which may go away,
        // or reach the database through a relay that is cut).
        var fixtureStorage = Hangfire.JobStorage.Current;
        try
        {
            _factory = ServerFixture.Start(all, s =>
            {
                services?.Invoke(s);
                s.AddSingleton<System.Diagnostics.Metrics.IMeterFactory, IsolatedMeterFactory>();
            });
        }
        finally
        {
            Hangfire.JobStorage.Current = fixtureStorage;
        }
        BaseAddress = _factory.ClientOptions.BaseAddress;
    }

    /// <summary>A client of the REST API (<c>/api/v1/</c>), with the key when given.</summary>
    public HttpClient NewClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseAddress, "/api/v1/") };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();
}
