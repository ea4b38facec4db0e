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

/// <summary>
/// Every rpc of protos/, callable with any key, string and number: the gRPC part of the role
/// matrix and of the fuzz test. A test that finds a method missing here fails.
/// </summary>
internal static class GrpcCalls
{
    /// <summary>The least role per method, as for the REST operation it stands for (docs/api.md).</summary>
    public static readonly IReadOnlyDictionary<string, string> Required = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["scheduler.v1.DagService/Upsert"] = Access.RoleMatrix.Admin,
        ["scheduler.v1.DagService/Get"] = Access.RoleMatrix.Viewer,
        ["scheduler.v1.DagService/List"] = Access.RoleMatrix.Viewer,
        ["scheduler.v1.DagService/Pause"] = Access.RoleMatrix.Operator,
        ["scheduler.v1.DagService/Unpause"] = Access.RoleMatrix.Operator,
        ["scheduler.v1.RunService/Trigger"] = Access.RoleMatrix.Operator,
        ["scheduler.v1.RunService/Get"] = Access.RoleMatrix.Viewer,
        ["scheduler.v1.RunService/Cancel"] = Access.RoleMatrix.Operator,
        ["scheduler.v1.RunService/Watch"] = Access.RoleMatrix.Viewer,
    };

    public static IEnumerable<string> Methods() =>
        new[] { DagService.Descriptor, RunService.Descriptor }.SelectMany(s => s.Methods.Select(m => $"{s.FullName}/{m.Name}"));

    /// <summary>Calls <paramref name="method"/> with <paramref name="text"/> in every string field and <paramref name="number"/> in every number.</summary>
    public static Task Call(GrpcClients g, string method, Metadata? key, string text, long number)
    {
        var options = new CallOptions(key, DateTime.UtcNow.AddSeconds(3));
        return method switch
        {
            "scheduler.v1.DagService/Upsert" => g.Dags.UpsertAsync(new UpsertDagRequest { Name = text, DefinitionJson = text }, options).ResponseAsync,
            "scheduler.v1.DagService/Get" => g.Dags.GetAsync(new GetDagRequest { Name = text }, options).ResponseAsync,
            "scheduler.v1.DagService/List" => g.Dags.ListAsync(new ListDagsRequest { Limit = (int)number, Cursor = text, Tag = text, Q = text }, options).ResponseAsync,
            "scheduler.v1.DagService/Pause" => g.Dags.PauseAsync(new PauseDagRequest { Name = text }, options).ResponseAsync,
            "scheduler.v1.DagService/Unpause" => g.Dags.UnpauseAsync(new PauseDagRequest { Name = text }, options).ResponseAsync,
            "scheduler.v1.RunService/Trigger" => g.Runs.TriggerAsync(new TriggerRunRequest
            {
                Dag = text, ConfJson = text, LogicalDate = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = number, Nanos = (int)(number % 2_000_000_000) },
            }, options).ResponseAsync,
            "scheduler.v1.RunService/Get" => g.Runs.GetAsync(new GetRunRequest { RunId = number }, options).ResponseAsync,
            "scheduler.v1.RunService/Cancel" => g.Runs.CancelAsync(new CancelRunRequest { RunId = number }, options).ResponseAsync,
            "scheduler.v1.RunService/Watch" => WatchAsync(g.Runs.Watch(new WatchRequest { RunId = number, Dag = text, After = text }, options)),
            _ => throw new InvalidOperationException($"{method} has no entry in GrpcCalls: add it."),
        };
    }

    private static async Task WatchAsync(AsyncServerStreamingCall<RunEvent> call)
    {
        using (call)
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
    }
}
