using Microsoft.Extensions.Configuration;
using Scheduler.Infrastructure.Rpc;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class RpcSetupTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Theory]
    [InlineData(null, 5081)]
    [InlineData("", 5081)]
    [InlineData("6000", 6000)]
    [InlineData(" 6001 ", 6001)]
    [InlineData("0", null)]
    [InlineData("off", null)]
    [InlineData("OFF", null)]
    public void Port_IsTheDefault_AValue_OrOff(string? value, int? expected) =>
        Assert.Equal(expected, RpcSetup.Port(value is null ? Config() : Config(("Grpc:Port", value))));

    [Theory]
    [InlineData("-1")]
    [InlineData("65536")]
    [InlineData("on")]
    public void Port_RefusesToStart_OnAnythingElse(string value) =>
        Assert.Contains("Grpc:Port", Assert.Throws<InvalidOperationException>(() => RpcSetup.Port(Config(("Grpc:Port", value)))).Message);

    [Fact]
    public void Port_IsOff_OnAWorkerOnlyReplica() => Assert.Null(RpcSetup.Port(Config(("Api:Enabled", "false"), ("Grpc:Port", "5081"))));

    [Fact]
    public void HostingUrls_AreUrls_ElsePorts_ElseKestrelsDefault()
    {
        Assert.Equal(["http://127.0.0.1:5080", "http://[::1]:5080"], RpcSetup.HostingUrls(Config(("urls", "http://127.0.0.1:5080; http://[::1]:5080"), ("http_ports", "8080"))));
        Assert.Equal(["http://*:8080", "https://*:8443"], RpcSetup.HostingUrls(Config(("http_ports", "8080"), ("https_ports", "8443"))));
        Assert.Equal(["http://localhost:5000"], RpcSetup.HostingUrls(Config()));
    }
}
