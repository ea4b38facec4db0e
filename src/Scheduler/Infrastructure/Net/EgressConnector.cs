using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Scheduler.Infrastructure.Net;

/// <summary>A connection the egress policy refused; its message says which address and why.</summary>
internal sealed class EgressRefusedException(string message) : IOException(message);

/// <summary>
/// Opens every outbound connection of http tasks and notification channels: resolves the
/// host, drops each address <see cref="EgressPolicy"/> refuses, and connects to the first
/// allowed one that answers. As a <see cref="SocketsHttpHandler.ConnectCallback"/> it runs for
/// each new connection, after DNS and for every redirect hop, so neither a name that
/// resolves somewhere else nor a redirect gets past the policy.
/// </summary>
internal sealed class EgressConnector(EgressPolicy policy)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = await ConnectSocketAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>A connected TCP socket to an allowed address of <paramref name="host"/>, or an <see cref="EgressRefusedException"/>.</summary>
    public async Task<Socket> ConnectSocketAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var refusals = new List<string>();
        var allowed = new List<IPAddress>();
        foreach (var address in addresses)
        {
            if (policy.Refusal(host, address) is { } refusal)
                refusals.Add(refusal);
            else
                allowed.Add(address);
        }
        if (allowed.Count == 0)
            throw new EgressRefusedException($"Egress policy refused the connection: {string.Join("; ", refusals)}.");
        SocketException? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }
}

internal static class EgressSetup
{
    /// <summary>The <c>Egress</c> options (checked at start-up: a bad entry stops the server with its name), the policy and the connector.</summary>
    public static IServiceCollection AddEgress(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EgressOptions>().Bind(configuration.GetSection("Egress"))
            .Validate(o => EgressPolicy.Check(o).Count == 0, "Egress:Allow or Egress:Deny holds an entry that is not a host name, *.domain, IP address or CIDR range.")
            .ValidateOnStart();
        services.AddSingleton(sp => new EgressPolicy(sp.GetRequiredService<IOptions<EgressOptions>>().Value));
        services.AddSingleton<EgressConnector>();
        return services;
    }

    /// <summary>This named client connects only where the egress policy allows.</summary>
    public static IHttpClientBuilder WithEgressPolicy(this IHttpClientBuilder builder) =>
        builder.ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
        {
            ConnectCallback = sp.GetRequiredService<EgressConnector>().ConnectAsync,
        });
}
