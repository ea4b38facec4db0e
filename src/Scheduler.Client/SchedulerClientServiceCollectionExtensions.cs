using Polly;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Client.Api;

namespace Scheduler.Client;

/// <summary>Registration with IHttpClientFactory: the same retries, through AddResilienceHandler.</summary>
public static class SchedulerClientServiceCollectionExtensions
{
    public static IHttpClientBuilder AddSchedulerClient(this IServiceCollection services, Uri serverUrl, string apiKey, SchedulerClientOptions? options = null)
    {
        options ??= new SchedulerClientOptions();
        var builder = services.AddHttpClient<SchedulerClient>(http =>
        {
            http.BaseAddress = SchedulerHttp.Root(serverUrl);
            http.Timeout = options.Timeout;
            http.DefaultRequestHeaders.Add(SchedulerHttp.ApiKeyHeader, apiKey);
        });
        builder.AddResilienceHandler("scheduler-retries", pipeline => pipeline.AddRetry(SchedulerHttp.RetryStrategy(options)));
        services.AddTransient<ISchedulerApi>(provider => provider.GetRequiredService<SchedulerClient>().Api);
        return builder;
    }
}
