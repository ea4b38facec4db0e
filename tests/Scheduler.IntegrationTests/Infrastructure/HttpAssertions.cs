using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Scheduler.IntegrationTests.Infrastructure;

public static class HttpAssertions
{
    public static async Task<JsonElement> ExpectAsync(this Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} but got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Like <see cref="ExpectAsync"/>, for a call whose answer may be any of <paramref name="statuses"/> (a PUT that creates or replaces).</summary>
    public static async Task<JsonElement> ExpectOneOfAsync(this Task<HttpResponseMessage> call, params HttpStatusCode[] statuses)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(statuses.Contains(response.StatusCode), $"expected one of {string.Join(", ", statuses.Select(s => (int)s))} but got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a problem document and returns it.</summary>
    public static async Task<JsonElement> ExpectProblemAsync(this Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        using var response = await call;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} but got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }

    /// <summary>The messages of one key in a validation problem's <c>errors</c>.</summary>
    public static string[] Errors(this JsonElement problem, string key)
    {
        Assert.True(problem.TryGetProperty("errors", out var errors), $"no 'errors' in {problem}");
        Assert.True(errors.TryGetProperty(key, out var messages), $"no error for '{key}' in {errors}");
        return messages.EnumerateArray().Select(m => m.GetString()!).ToArray();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string path, string json) =>
        client.PutAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body) =>
        client.PostAsJsonAsync(path, body, ServerFixture.Json);
}
