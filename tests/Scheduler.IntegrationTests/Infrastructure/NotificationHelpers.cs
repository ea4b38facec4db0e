using System.Net;
using System.Text.Json;

namespace Scheduler.IntegrationTests.Infrastructure;

public static class NotificationHelpers
{
    /// <summary>Creates a channel through the API (201 expected).</summary>
    public static async Task ChannelAsync(this HttpClient admin, string name, string type, string settings) =>
        await admin.PostJsonAsync("channels", $$"""{"name":"{{name}}","type":"{{type}}","settings":{{settings}}}""").ExpectAsync(HttpStatusCode.Created);

    /// <summary>Polls the delivery history until at least <paramref name="atLeast"/> deliveries match <paramref name="query"/> and all are <paramref name="done"/>.</summary>
    public static async Task<List<JsonElement>> DeliveriesAsync(this HttpClient admin, string query, int atLeast, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var items = (await admin.GetAsync($"notifications/deliveries?{query}").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
            if ((items.Count >= atLeast && items.All(done)) || DateTime.UtcNow > deadline)
            {
                Assert.True(items.Count >= atLeast && items.All(done), $"deliveries not as expected: {string.Join(" | ", items.Select(i => i.GetRawText()))}");
                return items;
            }
            await Task.Delay(100);
        }
    }
}
