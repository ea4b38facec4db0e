using System.Text;
using Scheduler.Infrastructure.Text;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class JsonTextTests
{
    private static string? Refused(string json) => JsonText.FirstRefused(Encoding.UTF8.GetBytes(json))?.Path;

    [Theory]
    [InlineData("""{"a":"\u0000"}""", "a")]
    [InlineData("""{"a":{"b":[1,"x",{"c":"\ud800"}]}}""", "a.b[2].c")]
    [InlineData("""["ok",["ok","\udfff"]]""", "[1][1]")]
    [InlineData("""{"a":1,"b":{"\u0000":2}}""", "b")]
    [InlineData("""{"\u0000":2}""", "$")]
    [InlineData("""{"x":[{}, {"y":"a\u0000"}]}""", "x[1].y")]
    [InlineData("""{"a":{"b":1,"c":[{"d":1,"d":2}]}}""", "a.c[0].d")]
    [InlineData("""{"a":1,"a":2}""", "a")]
    public void FirstRefused_NamesTheField_WhenTextCannotBeStoredOrAPropertyRepeats(string json, string path) =>
        Assert.Equal(path, Refused(json));

    [Theory]
    [InlineData("""{"a":"caf\u00e9","b":"\ud83d\ude00","c":["\u2400", 1, null, true]}""")]
    [InlineData("""{"a":"\u0000",""")]
    [InlineData("""[[[[1]]]]""")]
    [InlineData("""{"A":1,"a":2,"x":{"a":1},"y":{"a":1}}""")]
    public void FirstRefused_IsNull_WhenEveryStringIsStorableOrTheDocumentDoesNotParse(string json) =>
        Assert.Null(Refused(json));

    [Fact]
    public void FirstRefused_FindsInvalidUtf8_InAnUnescapedString()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"a":"xy"}""");
        bytes[7] = 0xFF;
        Assert.Equal("a", JsonText.FirstRefused(bytes)?.Path);
    }
}
