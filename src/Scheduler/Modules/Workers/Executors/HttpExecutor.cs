using System.Net.Http.Headers;
using System.Text;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Workers.Pool;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// One HTTP request: method, headers, body, expected statuses (2xx by default). Sends
/// <c>Idempotency-Key</c> so a redelivered attempt can be recognised by the receiver.
/// No retries of its own: retries are the task's policy. A cancel aborts the request. A
/// task without a timeout of its own waits at most <see cref="WorkerOptions.HttpTimeoutSeconds"/>
/// for the response (and the start of its body), so a hung endpoint cannot hold a slot for ever.
/// </summary>
internal sealed class HttpExecutor(IHttpClientFactory clients, IOptions<WorkerOptions> options, TimeProvider time) : ITaskExecutor
{
    public const string ClientName = "tasks";
    private const int SnippetBytes = 4096;

    public string Type => "http";

    public async Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken)
    {
        var uri = context.Task["uri"]?.GetValue<string>() ?? throw new InvalidOperationException("an http task needs 'uri'");
        var method = new HttpMethod((context.Task["method"]?.GetValue<string>() ?? "GET").ToUpperInvariant());
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", context.IdempotencyKey);
        switch (context.Task["body"])
        {
            case JsonValue value when value.TryGetValue<string>(out var text):
                request.Content = new StringContent(text, Encoding.UTF8, "text/plain");
                break;
            case JsonNode json:
                request.Content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
                break;
        }
        if (context.Task["headers"] is JsonObject headers)
            foreach (var (name, value) in headers)
            {
                var text = value?.GetValue<string>() ?? "";
                if (!request.Headers.TryAddWithoutValidation(name, text) && request.Content is not null)
                {
                    request.Content.Headers.Remove(name);
                    if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(text);
                    else
                        request.Content.Headers.TryAddWithoutValidation(name, text);
                }
            }
        var expected = context.Task["expect_status"] is JsonArray statuses ? statuses.Select(s => s!.GetValue<int>()).ToHashSet() : null;

        // Credentials in the URI (user:password@, ?token=...) never reach the log.
        context.Log.WriteLine(SecretMask.Mask($"{method} {uri}"));
        var limit = context.Timeout is null ? options.Value.HttpTimeout : null;
        using var timer = limit is { } after ? new CancellationTokenSource(after, time) : new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await SendAsync(context, request, expected, either.Token);
        }
        catch (Exception e) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested && e is OperationCanceledException or HttpRequestException or IOException)
        {
            return TaskOutcome.Failed($"no response within {limit!.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (Workers:HttpTimeoutSeconds; a task's own timeout replaces this limit)");
        }
        catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
        {
            return TaskOutcome.Failed(SecretMask.Mask($"HTTP request failed: {e.Message}"));
        }
    }

    private async Task<TaskOutcome> SendAsync(TaskExecutionContext context, HttpRequestMessage request, HashSet<int>? expected, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var status = (int)response.StatusCode;
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var (body, over) = await TaskOutputs.ReadCappedAsync(stream, ct);
        context.Log.WriteLine($"{status} {response.ReasonPhrase} in {(long)time.GetElapsedTime(started).TotalMilliseconds} ms");
        if (body.Length > 0)
        {
            var snippet = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, SnippetBytes));
            context.Log.WriteLine(SecretMask.Mask(body.Length > SnippetBytes ? snippet + "\n[... response truncated ...]" : snippet));
        }
        var ok = expected?.Contains(status) ?? status is >= 200 and < 300;
        if (!ok)
            return TaskOutcome.Failed($"HTTP {status}; expected {(expected is null ? "2xx" : string.Join(", ", expected))}", status);
        if (over)
            return TaskOutcome.Failed($"the response body is over {TaskOutcome.MaxOutputBytes} bytes; outputs are capped at 1 MiB", status);
        // The output: {"status": N, "body": <JSON or text>} (docs/authoring.md).
        return TaskOutcome.Success(status) with { Output = new JsonObject { ["status"] = status, ["body"] = TaskOutputs.Body(body) } };
    }
}
