using Grpc.Net.Client;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Rpc.V1;

namespace Scheduler.IntegrationTests.GrpcApi;

/// <summary>
/// The built server as production runs it (ASPNETCORE_URLS for REST, Grpc__Port for gRPC), on
/// a database of its own: binding gRPC in code must not cost REST its configured address.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrpcProcessTests : IAsyncLifetime
{
    private const string Key = "sk_grpc_process_admin_key_0123456789";
    private readonly ServerProcesses _servers = new();
    private string _connection = "";

    public async Task InitializeAsync() => _connection = await TestDatabase.CreateFreshAsync("grpc_process");

    [Fact]
    public async Task RestKeepsItsUrl_AndGrpcAnswersOnItsOwnPort()
    {
        var grpcPort = Loopback.FreePort();
        var (_, rest) = await _servers.StartAsync(_connection, Key, new Dictionary<string, string> { ["Grpc__Port"] = grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await rest.PostJsonAsync("dags", """{"name":"p-dag","tasks":[{"id":"a"}]}""").ExpectAsync(System.Net.HttpStatusCode.Created);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var dags = await new DagService.DagServiceClient(channel).ListAsync(new ListDagsRequest(), GrpcClients.Key(Key));
        Assert.Equal(["p-dag"], dags.Dags.Select(d => d.Name));
        // The gRPC services are not served on the REST address.
        using var wrongPort = GrpcChannel.ForAddress(rest.BaseAddress!.GetLeftPart(UriPartial.Authority));
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => new DagService.DagServiceClient(wrongPort).ListAsync(new ListDagsRequest(), GrpcClients.Key(Key)).ResponseAsync);
    }

    public Task DisposeAsync()
    {
        _servers.Dispose();
        return Task.CompletedTask;
    }
}
