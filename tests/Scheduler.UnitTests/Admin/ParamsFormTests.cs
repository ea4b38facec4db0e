using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Scheduler.Pages.Admin.Dags;

namespace Scheduler.UnitTests.Admin;

public sealed class ParamsFormTests
{
    private static readonly JsonObject Schema = JsonNode.Parse("""
        {"type":"object","required":["region"],"properties":{
          "region":{"type":"string","enum":["eu","us"],"description":"where"},
          "size":{"enum":[1,2]},
          "limit":{"type":"integer","title":"Row limit"},
          "ratio":{"type":["number","null"],"default":0.5},
          "dry":{"type":"boolean"},
          "tables":{"type":"array","default":["a"]},
          "note":{"type":"string"},
          "untyped":{}}}
        """)!.AsObject();

    private static FormCollection Form(params (string Name, string Value)[] fields) =>
        new(fields.ToDictionary(f => ParamsForm.Prefix + f.Name, f => new StringValues(f.Value)));

    [Fact]
    public void Build_MakesOneInputPerProperty_TypedByTheSchema_PrefilledFromDefaultsAndParams()
    {
        var fields = ParamsForm.Build(Schema, JsonNode.Parse("""{"limit":5,"note":"hi","untyped":"text"}""")!.AsObject()).ToDictionary(f => f.Name);
        Assert.Equal(ParamsForm.Kind.Choice, fields["region"].Kind);
        Assert.True(fields["region"].Required);
        Assert.Equal("where", fields["region"].Description);
        Assert.Equal(["\"eu\"", "\"us\""], fields["region"].Options.Select(o => o.Json));
        Assert.Equal(["eu", "us"], fields["region"].Options.Select(o => o.Label));
        Assert.Equal(["1", "2"], fields["size"].Options.Select(o => o.Json));
        Assert.Equal((ParamsForm.Kind.Integer, "Row limit", "5"), (fields["limit"].Kind, fields["limit"].Label, fields["limit"].Value));
        Assert.Equal((ParamsForm.Kind.Number, "0.5"), (fields["ratio"].Kind, fields["ratio"].Value));
        Assert.Equal(ParamsForm.Kind.Boolean, fields["dry"].Kind);
        Assert.Equal((ParamsForm.Kind.Json, "[\"a\"]"), (fields["tables"].Kind, fields["tables"].Value));
        Assert.Equal((ParamsForm.Kind.Text, "hi"), (fields["note"].Kind, fields["note"].Value));
        Assert.Equal(ParamsForm.Kind.Text, fields["untyped"].Kind);
        Assert.Empty(ParamsForm.Build(null, null));
        Assert.Empty(ParamsForm.Build(JsonNode.Parse("""{"type":"object"}""")!.AsObject(), null));
    }

    [Fact]
    public void Merge_TypesWhatWasPosted_LeavesEmptyInputsOut_AndWinsOverConf()
    {
        var fields = ParamsForm.Build(Schema, null);
        var conf = JsonNode.Parse("""{"region":"eu","other":1}""")!.AsObject();
        Assert.Null(ParamsForm.Merge(fields, Form(("region", "\"us\""), ("size", "2"), ("limit", "7"), ("ratio", "0.25"), ("dry", "true"), ("tables", "[\"x\"]"), ("note", "")), conf));
        Assert.Equal("""{"region":"us","other":1,"size":2,"limit":7,"ratio":0.25,"dry":true,"tables":["x"]}""", conf.ToJsonString());
    }

    [Theory]
    [InlineData("limit", "seven", "conf.limit: 'seven' is not a number")]
    [InlineData("limit", "1.5", "conf.limit: '1.5' is not a number")]
    [InlineData("tables", "[1,", "conf.tables: invalid JSON")]
    public void Merge_NamesTheFieldThatDoesNotParse(string name, string value, string error)
    {
        var message = ParamsForm.Merge(ParamsForm.Build(Schema, null), Form((name, value)), []);
        Assert.StartsWith(error, message);
    }
}
