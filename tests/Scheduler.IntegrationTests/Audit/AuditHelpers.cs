using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Audit;

/// <summary>Reads the audit trail through the API, as an operator of the product would.</summary>
public static class AuditHelpers
{
    /// <summary>The entries matching <paramref name="query"/> (a query string), oldest first.</summary>
    public static async Task<List<JsonElement>> AuditAsync(this HttpClient admin, string query = "")
    {
        var page = await admin.GetAsync("audit?limit=500" + (query.Length > 0 ? "&" + query : "")).ExpectAsync(HttpStatusCode.OK);
        var items = page.GetProperty("items").EnumerateArray().ToList();
        items.Reverse();
        return items;
    }

    /// <summary>The only entry of <paramref name="action"/> on <paramref name="target"/>; fails when there is none or more than one.</summary>
    public static async Task<JsonElement> OneAsync(this HttpClient admin, string action, string target)
    {
        var entries = await admin.AuditAsync($"action={Uri.EscapeDataString(action)}&target={Uri.EscapeDataString(target)}");
        var exact = entries.Where(e => e.GetProperty("target").GetString() == target).ToList();
        Assert.True(exact.Count == 1, $"{action} on {target}: {exact.Count} entries: {string.Join(", ", entries)}");
        return exact[0];
    }

    public static string ActorKind(this JsonElement entry) => entry.GetProperty("actor").GetProperty("kind").GetString()!;

    public static string ActorName(this JsonElement entry) => entry.GetProperty("actor").GetProperty("name").GetString()!;

    /// <summary>The bootstrap admin key, by id, name and client address (every test talks from loopback).</summary>
    public static void AssertByBootstrapKey(this JsonElement entry)
    {
        Assert.Equal("api_key", entry.ActorKind());
        Assert.Equal(Scheduler.Modules.Access.BootstrapAdminKey.Name, entry.ActorName());
        Assert.True(entry.GetProperty("actor").GetProperty("id").GetInt64() > 0);
        Assert.Equal("127.0.0.1", entry.GetProperty("ip").GetString());
    }

    public static string[] Changed(this JsonElement entry) =>
        entry.GetProperty("details").GetProperty("changed").EnumerateArray().Select(e => e.GetString()!).ToArray();
}
