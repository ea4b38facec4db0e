using System.Net;
using Scheduler.Infrastructure.Net;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class EgressPolicyTests
{
    private static string? Refusal(EgressOptions options, string host, string address) =>
        new EgressPolicy(options).Refusal(host, IPAddress.Parse(address));

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("169.254.0.1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    public void Refusal_DeniesLinkLocal_ByDefault(string address)
    {
        Assert.Contains("link-local", Refusal(new EgressOptions(), "metadata.internal", address));
        Assert.Null(Refusal(new EgressOptions { AllowLinkLocal = true }, "metadata.internal", address));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("::ffff:0.0.0.0")]
    public void Refusal_DeniesUnspecifiedAddresses_Always(string address) =>
        Assert.Contains("unspecified", Refusal(new EgressOptions { AllowLinkLocal = true, Allow = ["0.0.0.0/0"] }, address, address));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("10.0.0.5")]
    [InlineData("203.0.113.7")]
    public void Refusal_AllowsEverythingElse_ByDefault(string address) =>
        Assert.Null(Refusal(new EgressOptions(), "host.example", address));

    [Fact]
    public void Refusal_DeniesConfiguredRanges_AndLoopbackWhenListed()
    {
        var options = new EgressOptions { Deny = ["127.0.0.0/8", "::1", "10.0.0.0/8", "*.internal.example", "db.example"] };
        Assert.Contains("Egress:Deny", Refusal(options, "localhost", "127.0.0.1"));
        Assert.Contains("Egress:Deny", Refusal(options, "localhost", "::1"));
        Assert.Contains("Egress:Deny", Refusal(options, "x", "::ffff:10.1.2.3"));
        Assert.Contains("Egress:Deny", Refusal(options, "a.b.internal.example", "203.0.113.7"));
        Assert.Contains("Egress:Deny", Refusal(options, "DB.example.", "203.0.113.7"));
        Assert.Null(Refusal(options, "internal.example", "203.0.113.7"));
        Assert.Null(Refusal(options, "public.example", "203.0.113.7"));
    }

    [Fact]
    public void Refusal_WithAnAllowList_AllowsOnlyItsHostsAndRanges_AndDenyStillWins()
    {
        var options = new EgressOptions { Allow = ["hooks.slack.com", "*.example.com", "192.0.2.0/24"], Deny = ["192.0.2.66"] };
        Assert.Null(Refusal(options, "hooks.slack.com", "203.0.113.7"));
        Assert.Null(Refusal(options, "api.example.com", "203.0.113.8"));
        Assert.Null(Refusal(options, "anything", "192.0.2.10"));
        Assert.Contains("not in Egress:Allow", Refusal(options, "evil.example", "203.0.113.9"));
        Assert.Contains("not in Egress:Allow", Refusal(options, "example.com.evil", "203.0.113.9"));
        Assert.Contains("Egress:Deny", Refusal(options, "anything", "192.0.2.66"));
        // An allowed name that resolves to link-local (DNS rebinding) is still refused.
        Assert.Contains("link-local", Refusal(options, "hooks.slack.com", "169.254.169.254"));
    }

    [Fact]
    public void Check_NamesEntriesThatDoNotParse()
    {
        var errors = EgressPolicy.Check(new EgressOptions { Allow = ["ok.example", "not a host"], Deny = ["10.0.0.1/33"] });
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("Egress:Allow") && e.Contains("'not a host'"));
        Assert.Contains(errors, e => e.Contains("Egress:Deny") && e.Contains("10.0.0.1/33"));
        Assert.Throws<InvalidOperationException>(() => new EgressPolicy(new EgressOptions { Deny = ["http://x/"] }));
    }
}
