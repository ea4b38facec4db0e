using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Scheduler.Client;

/// <summary>How a client talks to the server.</summary>
public sealed class SchedulerClientOptions
{
    /// <summary>Retries after a 429 (rate limited) or 503 (unavailable) answer or a failed connection; 0 turns them off.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The first retry's delay; later ones back off exponentially with jitter, or wait what Retry-After says.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one request may take, retries included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);
}

/// <summary>The HTTP plumbing: the API key header and the retry pipeline (Microsoft.Extensions.Http.Resilience).</summary>
public static class SchedulerHttp
{
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>
    /// Retries only answers that mean the server did not act on the request (429 from a rate
    /// limit, 503 while it is unavailable) and connections that failed, so retrying a POST
    /// does not repeat its effect.
    /// </summary>
    public static HttpRetryStrategyOptions RetryStrategy(SchedulerClientOptions options) => new()
    {
        MaxRetryAttempts = Math.Max(1, options.MaxRetries),
        Delay = options.RetryDelay,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldRetryAfterHeader = true,
        ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && args.Outcome switch
        {
            { Result: { } response } => response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable,
            { Exception: HttpRequestException } => true,
            _ => false,
        }),
    };

    /// <summary>A handler that retries as <see cref="RetryStrategy"/> says, in front of <paramref name="inner"/>.</summary>
    public static DelegatingHandler RetryHandler(SchedulerClientOptions options, HttpMessageHandler? inner = null)
    {
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(RetryStrategy(options)).Build();
        return new ResilienceHandler(pipeline) { InnerHandler = inner ?? new SocketsHttpHandler() };
    }

    /// <summary>An HttpClient for <paramref name="serverUrl"/> that sends <paramref name="apiKey"/> and retries.</summary>
    public static HttpClient Create(Uri serverUrl, string apiKey, SchedulerClientOptions? options = null, HttpMessageHandler? inner = null)
    {
        options ??= new SchedulerClientOptions();
        var http = new HttpClient(RetryHandler(options, inner)) { BaseAddress = Root(serverUrl), Timeout = options.Timeout };
        http.DefaultRequestHeaders.Add(ApiKeyHeader, apiKey);
        return http;
    }

    /// <summary>The server's root with a trailing slash, which the client's relative paths need.</summary>
    public static Uri Root(Uri serverUrl) => serverUrl.AbsoluteUri.EndsWith('/') ? serverUrl : new Uri(serverUrl.AbsoluteUri + "/");
}
