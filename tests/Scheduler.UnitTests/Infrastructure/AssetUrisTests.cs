using Scheduler.Infrastructure.Validation;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class AssetUrisTests
{
    [Theory]
    [InlineData("s3://lake/orders")]
    [InlineData("postgres://warehouse/public/prices")]
    [InlineData("file:///data/x.csv")]
    [InlineData("urn:isbn:0451450523")]
    [InlineData("https://example.test/a?b=c#d")]
    public void Problem_IsNull_ForAbsoluteUrisWithAScheme(string uri) => Assert.Null(AssetUris.Problem(uri));

    [Theory]
    [InlineData("")]
    [InlineData("orders")]
    [InlineData("/data/x.csv")]
    [InlineData("c:/data")]
    [InlineData("s3://lake/my orders")]
    [InlineData("s3://lake/\torders")]
    [InlineData("s3://lake/\u0000")]
    public void Problem_Explains_WhenNotAnAssetUri(string uri) => Assert.NotNull(AssetUris.Problem(uri));

    [Fact]
    public void Problem_Explains_WhenTooLong()
    {
        Assert.Null(AssetUris.Problem("s3://bucket/" + new string('a', AssetUris.MaxLength - 12)));
        Assert.Contains("at most", AssetUris.Problem("s3://bucket/" + new string('a', AssetUris.MaxLength - 11)));
    }
}
