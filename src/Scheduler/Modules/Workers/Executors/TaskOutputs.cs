using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scheduler.Abstractions;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// Reading what a task produced as its output, within <see cref="TaskOutcome.MaxOutputBytes"/>:
/// never more than one byte over the cap is read, whatever the task wrote.
/// </summary>
internal static class TaskOutputs
{
    /// <summary>The most rows a sql task's output keeps (<c>"truncated": true</c> says there were more).</summary>
    public const int MaxRows = 1_000;

    /// <summary>The JSON in a file (none when it is absent or empty), or why it cannot be the output.</summary>
    public static async Task<(JsonNode? Output, string? Error)> ReadFileAsync(string path, string name, CancellationToken ct)
    {
        if (!File.Exists(path))
            return (null, null);
        await using var file = File.OpenRead(path);
        var (bytes, over) = await ReadCappedAsync(file, ct);
        if (over)
            return (null, $"{name} holds more than {TaskOutcome.MaxOutputBytes} bytes; outputs are capped at 1 MiB");
        if (bytes.Length == 0 || Encoding.UTF8.GetString(bytes).Trim().Length == 0)
            return (null, null);
        try
        {
            return (JsonNode.Parse(bytes), null);
        }
        catch (JsonException e)
        {
            return (null, $"{name} is not JSON: {e.Message}");
        }
    }

    /// <summary>Up to the cap, and whether there was more.</summary>
    public static async Task<(byte[] Bytes, bool Over)> ReadCappedAsync(Stream stream, CancellationToken ct)
    {
        var buffer = new byte[TaskOutcome.MaxOutputBytes + 1];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0)
                break;
            read += n;
        }
        return read > TaskOutcome.MaxOutputBytes ? ([], true) : (buffer[..read], false);
    }

    /// <summary>A response body as an http task's output holds it: JSON when it parses as JSON, else its text.</summary>
    public static JsonNode? Body(byte[] bytes)
    {
        if (bytes.Length == 0)
            return JsonValue.Create("");
        try
        {
            return JsonNode.Parse(bytes) ?? JsonValue.Create("null");
        }
        catch (JsonException)
        {
            return JsonValue.Create(Encoding.UTF8.GetString(bytes));
        }
    }
}
