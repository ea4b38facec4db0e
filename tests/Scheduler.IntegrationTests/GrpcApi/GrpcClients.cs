using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Rpc.V1;

namespace Scheduler.IntegrationTests.GrpcApi;

/// <summary>gRPC clients of the test server over its real h2c loopback port, with a key in <c>x-api-key</c>.</summary>
public sealed class GrpcClients : IDisposable
{
    private readonly GrpcChannel _channel;

    public GrpcClients(ServerFixture server) => _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.GrpcPort}");

    public CallInvoker Invoker => _channel.CreateCallInvoker();
    internal DagService.DagServiceClient Dags => new(_channel);
    internal RunService.RunServiceClient Runs => new(_channel);

    /// <summary>The API key an HttpClient of the fixture sends.</summary>
    public static string KeyOf(HttpClient client) => client.DefaultRequestHeaders.GetValues("X-Api-Key").Single();

    public static Metadata Key(string key) => new() { { "x-api-key", key } };

    public static Metadata Key(HttpClient client) => Key(KeyOf(client));

    /// <summary>The call's RpcException, asserting its status code.</summary>
    public static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(e.StatusCode == code, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
        return e;
    }

    /// <summary>The field names of an INVALID_ARGUMENT's google.rpc.BadRequest detail.</summary>
    public static List<string> Fields(RpcException e) =>
        e.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => v.Field).ToList() ?? [];

    public void Dispose() => _channel.Dispose();
}
