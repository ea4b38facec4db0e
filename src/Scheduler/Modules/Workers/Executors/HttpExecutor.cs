using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Scheduler.Abstractions;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// One HTTP request: method, headers, body, expected statuses (2xx by default). Sends
/// <c>Idempotency-Key</c> so a redelivered attempt can be recognised by the receiver.
/// No retries of its own: retries are the task's policy. A cancel aborts the request.
/// </summary>
internal sealed class HttpExecutor(IHttpClientFactory clients) : ITaskExecutor
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

        context.Log.WriteLine($"{method} {uri}");
        var clock = Stopwatch.StartNew();
        using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var status = (int)response.StatusCode;
        var snippet = await ReadSnippetAsync(response, cancellationToken);
        context.Log.WriteLine($"{status} {response.ReasonPhrase} in {clock.ElapsedMilliseconds} ms");
        if (snippet.Length > 0)
            context.Log.WriteLine(snippet);
        var ok = expected?.Contains(status) ?? status is >= 200 and < 300;
        return ok ? TaskOutcome.Success(status)
            : TaskOutcome.Failed($"HTTP {status}; expected {(expected is null ? "2xx" : string.Join(", ", expected))}", status);
    }

    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[SnippetBytes];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0)
                break;
            read += n;
        }
        var text = Encoding.UTF8.GetString(buffer, 0, read);
        return read == SnippetBytes ? text + "\n[... response truncated ...]" : text;
    }
}
