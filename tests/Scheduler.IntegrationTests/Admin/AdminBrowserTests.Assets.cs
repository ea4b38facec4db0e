using Microsoft.Playwright;
using Scheduler.IntegrationTests.Assets;
using Scheduler.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Scheduler.IntegrationTests.Admin;

// The asset pages in a real browser: the graph of which DAG feeds which, the list, a DAG's upstream assets.
public sealed partial class AdminBrowserTests
{
    [Fact]
    public async Task AssetPage_DrawsProducersAssetsAndConsumers_AndTheDagPageShowsItsUpstreamAssets()
    {
        await Admin.PutProducerAsync("load-orders", "load", ["s3://lake/orders"]);
        await Admin.PutProducerAsync("load-prices", "fetch", ["s3://lake/prices"]);
        await Admin.PutConsumerAsync("daily-report", ["s3://lake/orders", "s3://lake/prices"]);
        await Admin.PutConsumerAsync("archive", ["s3://lake/orders"], paused: true);
        await Operator.PostEventAsync("s3://lake/orders", """{"rows":42}""");

        var page = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Assets" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Assets", Exact = true, Level = 1 })).ToBeVisibleAsync();
        var graph = page.GetByTestId("asset-graph");
        await Expect(graph.Locator("g[data-node=dag]")).ToHaveCountAsync(4);
        await Expect(graph.Locator("g[data-node=asset]")).ToHaveCountAsync(2);
        // load-orders -> orders, load-prices -> prices, orders -> daily-report, prices -> daily-report, orders -> archive.
        await Expect(graph.Locator("path[marker-end]")).ToHaveCountAsync(5);
        var orders = page.Locator("tr[data-uri='s3://lake/orders']");
        await Expect(orders).ToContainTextAsync("load-orders");
        await Expect(orders).ToContainTextAsync("archive (paused)");
        await Expect(orders.Locator("td").Nth(3)).ToHaveTextAsync("1");
        await Expect(page.Locator("tr[data-uri='s3://lake/prices'] td").Nth(4)).ToHaveTextAsync("none");
        await Browser.ScreenshotAsync(page, "40-assets");

        await graph.Locator("g[data-node=dag][data-name=daily-report]").ClickAsync();
        var upstream = page.GetByTestId("upstream-assets");
        await Expect(upstream.Locator("tr[data-uri]")).ToHaveCountAsync(2);
        await Expect(upstream.Locator("tr[data-uri='s3://lake/prices']")).ToContainTextAsync("load-prices");
        await Expect(upstream.Locator("tr[data-uri='s3://lake/prices'] td").Nth(2)).ToHaveTextAsync("none");
        await Expect(upstream.Locator("tr[data-uri='s3://lake/orders'] td").Nth(2)).Not.ToHaveTextAsync("none");
        await Browser.ScreenshotAsync(page, "41-dag-upstream-assets");
    }
}
