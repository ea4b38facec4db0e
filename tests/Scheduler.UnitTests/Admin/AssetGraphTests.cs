using Scheduler.Modules.Runs.Assets;
using Scheduler.Pages.Admin;

namespace Scheduler.UnitTests.Admin;

public sealed class AssetGraphTests
{
    [Fact]
    public void Build_PutsProducersThenAssetsThenConsumers_WhenDagsChainThroughAssets()
    {
        var assets = new[]
        {
            new AssetInfo("s3://raw", [new AssetProducer("ingest", "load"), new AssetProducer("ingest", "reload")], [new AssetConsumerInfo("clean", false)], 0, null),
            new AssetInfo("s3://clean", [new AssetProducer("clean", "write")], [new AssetConsumerInfo("report", true)], 0, null),
        };
        var layout = AssetsModel.Build(assets);
        var layer = layout.Nodes.ToDictionary(n => n.Id, n => n.Layer);
        Assert.Equal(0, layer["dag:ingest"]);
        Assert.Equal(1, layer["asset:s3://raw"]);
        Assert.Equal(2, layer["dag:clean"]);
        Assert.Equal(3, layer["asset:s3://clean"]);
        Assert.Equal(4, layer["dag:report"]);
        // Two outlets of one DAG on one asset are one arrow.
        Assert.Equal(4, layout.Edges.Count);
        Assert.Equal("s3://clean", AssetsModel.Label("asset:s3://clean"));
    }
}
