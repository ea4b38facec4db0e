using System.Net;
using System.Net.Sockets;

namespace Scheduler.Infrastructure.Net;

/// <summary>Configuration section <c>Egress</c>: where http tasks and notification channels may connect.</summary>
internal sealed class EgressOptions
{
    /// <summary>
    /// When not empty, only these destinations: host names (<c>hooks.slack.com</c>, or
    /// <c>*.example.com</c> for its subdomains), IP addresses and CIDR ranges (<c>10.1.0.0/16</c>).
    /// </summary>
    public string[] Allow { get; set; } = [];

    /// <summary>Never these destinations (same forms); a deny wins over an allow.</summary>
    public string[] Deny { get; set; } = [];

    /// <summary>
    /// Link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata services among them)
    /// are refused unless this is true.
    /// </summary>
    public bool AllowLinkLocal { get; set; }
}

/// <summary>
/// Decides whether a connection to a host and one of its addresses is allowed. Addresses are
/// what a host name resolved to at connect time, so a name that resolves elsewhere than it
/// did (DNS rebinding) or a redirect to another host is judged by where it really goes.
/// Always refused: the unspecified addresses (0.0.0.0/8, ::), which reach the local host.
/// IPv4-mapped and NAT64 (64:ff9b::/96) addresses are judged by the IPv4 address they carry.
/// </summary>
internal sealed class EgressPolicy
{
    private static readonly IPNetwork[] LinkLocal = [IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("fe80::/10")];
    private static readonly IPNetwork[] Unspecified = [IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("::/128")];
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly Rules _allow;
    private readonly Rules _deny;
    private readonly bool _allowLinkLocal;

    public EgressPolicy(EgressOptions options)
    {
        var errors = new List<string>();
        _allow = Rules.Parse(options.Allow, "Egress:Allow", errors);
        _deny = Rules.Parse(options.Deny, "Egress:Deny", errors);
        if (errors.Count > 0)
            throw new InvalidOperationException(string.Join(" ", errors));
        _allowLinkLocal = options.AllowLinkLocal;
    }

    /// <summary>The problems with these options' entries (empty when they all parse).</summary>
    public static List<string> Check(EgressOptions options)
    {
        var errors = new List<string>();
        Rules.Parse(options.Allow, "Egress:Allow", errors);
        Rules.Parse(options.Deny, "Egress:Deny", errors);
        return errors;
    }

    /// <summary>Null when <paramref name="host"/> may be reached at <paramref name="address"/>, else why not.</summary>
    public string? Refusal(string host, IPAddress address)
    {
        // An IPv4 address in IPv6 form (mapped, or NAT64's well-known prefix) is judged as that IPv4 address.
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        else if (Nat64.Contains(address))
            address = new IPAddress(address.GetAddressBytes()[12..]);
        var shown = host == address.ToString() ? host : $"{host} ({address})";
        if (Unspecified.Any(n => n.Contains(address)))
            return $"{shown} is an unspecified address, which is never allowed";
        if (!_allowLinkLocal && LinkLocal.Any(n => n.Contains(address)))
            return $"{shown} is link-local (cloud metadata lives there): refused unless Egress:AllowLinkLocal is true";
        if (_deny.Matches(host, address))
            return $"{shown} is denied by Egress:Deny";
        if (!_allow.IsEmpty && !_allow.Matches(host, address))
            return $"{shown} is not in Egress:Allow";
        return null;
    }

    /// <summary>Host names (exact, or <c>*.</c> for subdomains) and address ranges.</summary>
    private sealed class Rules(HashSet<string> names, List<string> suffixes, List<IPNetwork> networks)
    {
        public bool IsEmpty => names.Count == 0 && suffixes.Count == 0 && networks.Count == 0;

        public bool Matches(string host, IPAddress address)
        {
            var name = host.TrimEnd('.').ToLowerInvariant();
            return names.Contains(name) || suffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal)) || networks.Any(n => n.Contains(address));
        }

        public static Rules Parse(IEnumerable<string> entries, string setting, List<string> errors)
        {
            var (names, suffixes, networks) = (new HashSet<string>(StringComparer.Ordinal), new List<string>(), new List<IPNetwork>());
            foreach (var raw in entries)
            {
                var entry = raw.Trim().ToLowerInvariant();
                if (entry.Length == 0)
                    continue;
                if (IPAddress.TryParse(entry, out var single))
                    networks.Add(new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
                else if (IPNetwork.TryParse(entry, out var network))
                    networks.Add(network);
                else if (entry.StartsWith("*.", StringComparison.Ordinal) && IsHostName(entry[2..]))
                    suffixes.Add(entry[1..]);
                else if (IsHostName(entry))
                    names.Add(entry.TrimEnd('.'));
                else
                    errors.Add($"{setting}: '{raw}' is not a host name, *.domain, IP address or CIDR range.");
            }
            return new Rules(names, suffixes, networks);
        }

        private static bool IsHostName(string text) => Uri.CheckHostName(text.TrimEnd('.')) == UriHostNameType.Dns;
    }
}
