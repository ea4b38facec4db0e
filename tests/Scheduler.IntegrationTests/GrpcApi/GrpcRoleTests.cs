using Grpc.Core;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.GrpcApi;

/// <summary>The role matrix over gRPC: every rpc is listed, and each refuses a missing key and every role below its own, as REST does.</summary>
public sealed class GrpcRoleTests(ServerFixture server) : ServerTest(server), IDisposable
{
    private readonly GrpcClients _grpc = new(server);

    [Fact]
    public void Matrix_NamesEveryRpc() => Assert.Equal(GrpcCalls.Methods().Order(), GrpcCalls.Required.Keys.Order());

    [Fact]
    public async Task EveryRpc_RefusesNoKey_AndRolesBelowItsOwn_AndLetsItsRoleThrough()
    {
        var keys = new Dictionary<string, Metadata>
        {
            [RoleMatrix.Viewer] = GrpcClients.Key(Viewer),
            [RoleMatrix.Operator] = GrpcClients.Key(Operator),
            [RoleMatrix.Admin] = GrpcClients.Key(Admin),
        };
        var ranks = new[] { RoleMatrix.Viewer, RoleMatrix.Operator, RoleMatrix.Admin };
        foreach (var method in GrpcCalls.Methods())
        {
            var required = GrpcCalls.Required[method];
            var none = await Assert.ThrowsAsync<RpcException>(() => GrpcCalls.Call(_grpc, method, null, "no-such-thing", 987654321));
            Assert.True(none.StatusCode == StatusCode.Unauthenticated, $"{method} without a key: {none.StatusCode}");
            foreach (var role in ranks)
            {
                var allowed = Array.IndexOf(ranks, role) >= Array.IndexOf(ranks, required);
                var e = await Record.ExceptionAsync(() => GrpcCalls.Call(_grpc, method, keys[role], "no-such-thing", 987654321));
                var code = (e as RpcException)?.StatusCode ?? StatusCode.OK;
                if (allowed)
                    Assert.True(code is StatusCode.OK or StatusCode.NotFound or StatusCode.InvalidArgument or StatusCode.DeadlineExceeded, $"{method} as {role}: {code} {e?.Message}");
                else
                    Assert.True(code == StatusCode.PermissionDenied, $"{method} as {role}: {code}, expected PermissionDenied");
            }
        }
    }

    [Fact]
    public async Task EveryRpc_RefusesAKeyWithTeamRolesOnly()
    {
        await Server.CreateTeamAsync("grpc_team");
        using var teamAdmin = await Server.TeamClientAsync("grpc-team-admin", new() { ["grpc_team"] = "admin" });
        var key = GrpcClients.Key(teamAdmin);
        foreach (var method in GrpcCalls.Methods())
        {
            var e = await Record.ExceptionAsync(() => GrpcCalls.Call(_grpc, method, key, "no-such-thing", 987654321));
            Assert.True((e as RpcException)?.StatusCode == StatusCode.PermissionDenied, $"{method} with team roles only: {(e as RpcException)?.StatusCode.ToString() ?? "OK"}");
        }
    }

    public void Dispose() => _grpc.Dispose();
}
