using Grpc.Core;
using Scheduler.IntegrationTests.GrpcApi;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Fuzz;

/// <summary>
/// Hostile values into every string and number of every rpc, as an admin: each answer is a
/// client error (INVALID_ARGUMENT, NOT_FOUND, ...) or success, never INTERNAL or UNKNOWN,
/// and the server still answers afterwards.
/// </summary>
public sealed class GrpcFuzzTests(ServerFixture server) : ServerTest(server), IDisposable
{
    private readonly GrpcClients _grpc = new(server);

    private static readonly string[] Texts =
    [
        "", "a\0b", "\0", new string('x', 100_000), "' or 1=1 --", "../../etc/passwd", "名前🎉", "{}", "[]", "null", "{\"name\":\"a\0\"}",
        """{"tasks":[{"id":"a","command":"x\u0000y"}]}""", """{"tasks":"not a list"}""", """{"tasks":[{"id":"a","depends_on":["a"]}]}""", "0.0", "1.2.3", "-1.-1",
        "99999999999999999999999999.1", """{"name":"x","cron":"61 * * * *","tasks":[{"id":"a"}]}""",
    ];

    private static readonly long[] Numbers = [0, -1, 1, long.MaxValue, long.MinValue, int.MaxValue + 1L, 253_402_300_800, -62_135_596_801];

    [Fact]
    public async Task EveryRpc_AnswersHostileValues_WithoutAServerError()
    {
        var admin = GrpcClients.Key(Admin);
        var failures = new List<string>();
        foreach (var method in GrpcCalls.Methods())
            foreach (var (text, number) in Texts.Select((t, i) => (t, Numbers[i % Numbers.Length])))
            {
                var e = await Record.ExceptionAsync(() => GrpcCalls.Call(_grpc, method, admin, text, number));
                if (e is not null and not RpcException || e is RpcException { StatusCode: StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss or StatusCode.Unimplemented })
                    failures.Add($"{method} ({Show(text)}, {number}): {e!.Message}");
            }
        Assert.Empty(failures);
        Assert.DoesNotContain((await _grpc.Dags.ListAsync(new Rpc.V1.ListDagsRequest(), admin)).Dags, d => d.Name.Contains('\0'));
    }

    private static string Show(string text) => text.Length > 40 ? text[..40] + "..." : text.Replace("\0", "\\0");

    public void Dispose() => _grpc.Dispose();
}
