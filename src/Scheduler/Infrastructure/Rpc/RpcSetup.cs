using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Scheduler.Infrastructure.Rpc;

/// <summary>
/// gRPC on its own h2c port (<c>Grpc:Port</c>, default 5081; <c>0</c> or <c>off</c> turns it
/// off): a Kestrel endpoint that speaks HTTP/2 only, because cleartext HTTP/2 cannot share a
/// port with HTTP/1.1. The services are reachable on that port only, the REST API keeps its
/// addresses, and server reflection is on (grpcurl lists and describes the services).
/// </summary>
internal static class RpcSetup
{
    public const int DefaultPort = 5081;

    /// <summary>The gRPC port, or null when turned off (or the API is: a worker-only replica); a value that is neither a port nor "off" stops the start.</summary>
    public static int? Port(IConfiguration configuration)
    {
        if (!configuration.GetValue("Api:Enabled", true))
            return null;
        var text = configuration["Grpc:Port"]?.Trim();
        if (string.IsNullOrEmpty(text))
            return DefaultPort;
        if (text.Equals("off", StringComparison.OrdinalIgnoreCase) || text == "0")
            return null;
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
            return port;
        throw new InvalidOperationException($"Grpc:Port must be a TCP port (1-65535), 0 or 'off'; it is '{text}'.");
    }

    public static WebApplicationBuilder AddRpc(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc(options =>
        {
            options.Interceptors.Add<RpcInterceptor>();
            options.MaxReceiveMessageSize = (int)Http.HttpSetup.MaxRequestBodyBytes;
        });
        builder.Services.AddGrpcReflection();
        if (Port(builder.Configuration) is not { } port)
            return builder;
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // An endpoint set in code replaces the hosting URLs (ASPNETCORE_URLS, HTTP_PORTS),
            // so the REST addresses are bound here too, as they would have been without gRPC.
            var urls = HostingUrls(context.Configuration);
            foreach (var url in urls)
                Listen(kestrel, BindingAddress.Parse(url));
            var loopbackOnly = urls.All(u => IsLoopback(BindingAddress.Parse(u).Host));
            var address = context.Configuration["Grpc:Address"] is { Length: > 0 } configured
                ? IPAddress.Parse(configured)
                : loopbackOnly ? IPAddress.Loopback : IPAddress.Any;
            kestrel.Listen(address, port, listen => listen.Protocols = HttpProtocols.Http2);
        });
        return builder;
    }

    /// <summary>The REST addresses the host would bind: <c>urls</c>, else <c>http_ports</c>/<c>https_ports</c>, else Kestrel's default.</summary>
    internal static IReadOnlyList<string> HostingUrls(IConfiguration configuration)
    {
        static string[] Split(string? value) => (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var urls = Split(configuration["urls"]);
        if (urls.Length > 0)
            return urls;
        var ports = Split(configuration["http_ports"]).Select(p => $"http://*:{p}")
            .Concat(Split(configuration["https_ports"]).Select(p => $"https://*:{p}")).ToList();
        return ports.Count > 0 ? ports : ["http://localhost:5000"];
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static void Listen(KestrelServerOptions kestrel, BindingAddress url)
    {
        Action<ListenOptions> configure = url.Scheme == "https" ? listen => listen.UseHttps() : _ => { };
        if (url.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            kestrel.ListenLocalhost(url.Port, configure);
        else if (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip))
            kestrel.Listen(ip, url.Port, configure);
        else
            kestrel.ListenAnyIP(url.Port, configure); // "*", "+" or a host name: every interface, as Kestrel does
    }

    /// <summary>Maps the gRPC services (on the gRPC port only) and reflection; nothing when gRPC is off.</summary>
    public static void MapRpc(this WebApplication app, Action<IEndpointRouteBuilder> services)
    {
        if (Port(app.Configuration) is not { } port)
            return;
        // Roles are checked per method by RpcInterceptor, which answers in gRPC statuses
        // (UNAUTHENTICATED, PERMISSION_DENIED) rather than the REST challenge's HTTP 401/403;
        // it also keeps the services to the gRPC port (by the connection's local port, not the
        // Host header, which a proxy in front may rewrite).
        var rpc = app.MapGroup("").AllowAnonymous();
        services(rpc);
        rpc.MapGrpcReflectionService();
    }
}

/// <summary>Instants in messages: absent (null) stays absent.</summary>
internal static class RpcTime
{
    public static Google.Protobuf.WellKnownTypes.Timestamp? From(DateTimeOffset? at) =>
        at is { } value ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(value) : null;

    /// <summary>An instant of a request; one outside 0001-9999 or with bad nanos is a 400 keyed <paramref name="field"/>.</summary>
    public static DateTimeOffset? To(Google.Protobuf.WellKnownTypes.Timestamp? at, string field)
    {
        if (at is null)
            return null;
        try
        {
            return at.ToDateTimeOffset();
        }
        catch (InvalidOperationException)
        {
            throw new FluentValidation.ValidationException([new FluentValidation.Results.ValidationFailure(field, "must be a valid instant between 0001-01-01 and 9999-12-31.")]);
        }
    }
}
