using Grpc.Core;
using Grpc.Reflection.V1Alpha;
using Scheduler.IntegrationTests.Audit;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Rpc.V1;
using static Scheduler.IntegrationTests.GrpcApi.GrpcClients;

namespace Scheduler.IntegrationTests.GrpcApi;

/// <summary>DagService over the real h2c port: every rpc, the same validation, roles and audit as REST, and server reflection.</summary>
public sealed class GrpcDagTests(ServerFixture server) : ServerTest(server), IDisposable
{
    private readonly GrpcClients _grpc = new(server);

    private const string Definition = """{"name":"g-dag","cron":"0 9 * * *","tags":["grpc"],"tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""";

    [Fact]
    public async Task Upsert_Get_List_Pause_Unpause_ShareTheRestRules_AndAuditAsTheKey()
    {
        var created = await _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-dag", DefinitionJson = Definition }, Key(Admin));
        Assert.True(created.Created);
        Assert.Equal(1, created.Dag.Version);
        var again = await _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-dag", DefinitionJson = Definition }, Key(Admin));
        Assert.False(again.Changed);

        var dag = await _grpc.Dags.GetAsync(new GetDagRequest { Name = "g-dag" }, Key(Viewer));
        Assert.Equal("0 9 * * *", dag.Cron);
        Assert.Equal(2, dag.TaskCount);
        Assert.Contains("\"depends_on\":[\"a\"]", dag.DefinitionJson);
        Assert.NotNull(dag.NextRunAt);
        // The same DAG through REST: one catalogue behind both surfaces.
        var rest = await Viewer.GetAsync("dags/g-dag").ExpectAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(rest.GetProperty("hash").GetString(), dag.Hash);

        var list = await _grpc.Dags.ListAsync(new ListDagsRequest { Tag = "grpc", Limit = 10 }, Key(Viewer));
        Assert.Equal(["g-dag"], list.Dags.Select(d => d.Name));
        Assert.Equal("", list.NextCursor);

        Assert.True((await _grpc.Dags.PauseAsync(new PauseDagRequest { Name = "g-dag" }, Key(Operator))).Paused);
        Assert.Empty((await _grpc.Dags.ListAsync(new ListDagsRequest { Paused = false }, Key(Viewer))).Dags);
        Assert.False((await _grpc.Dags.UnpauseAsync(new PauseDagRequest { Name = "g-dag" }, Key(Operator))).Paused);

        var create = await Admin.OneAsync("dag.create", "dag/g-dag");
        Assert.Equal("api_key", create.GetProperty("actor").GetProperty("kind").GetString());
        Assert.Equal("bootstrap-admin", create.GetProperty("actor").GetProperty("name").GetString());
        Assert.Equal("test-operator", (await Admin.OneAsync("dag.pause", "dag/g-dag")).GetProperty("actor").GetProperty("name").GetString());
        Assert.Equal("test-operator", (await Admin.OneAsync("dag.unpause", "dag/g-dag")).GetProperty("actor").GetProperty("name").GetString());
    }

    [Fact]
    public async Task BadInput_IsInvalidArgument_WithTheFieldsRestNames()
    {
        var cycle = await FailsAsync(StatusCode.InvalidArgument, () => _grpc.Dags.UpsertAsync(new UpsertDagRequest
        {
            Name = "g-bad", DefinitionJson = """{"tasks":[{"id":"a","depends_on":["b"]},{"id":"b","depends_on":["a"]}]}""",
        }, Key(Admin)).ResponseAsync);
        Assert.NotEmpty(Fields(cycle));
        var rest = await Admin.PutJsonAsync("dags/g-bad", """{"tasks":[{"id":"a","depends_on":["b"]},{"id":"b","depends_on":["a"]}]}""").ExpectProblemAsync(System.Net.HttpStatusCode.BadRequest);
        Assert.Equal(rest.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(), Fields(cycle).Distinct().Order());

        var mismatch = await FailsAsync(StatusCode.InvalidArgument, () => _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-one", DefinitionJson = """{"name":"g-two","tasks":[{"id":"a"}]}""" }, Key(Admin)).ResponseAsync);
        Assert.Contains("name", Fields(mismatch));
        var typed = await FailsAsync(StatusCode.InvalidArgument, () => _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-typed", DefinitionJson = """{"tasks":[{"id":"a","retries":"many"}]}""" }, Key(Admin)).ResponseAsync);
        Assert.Contains("tasks[0].retries", Fields(typed));
        await FailsAsync(StatusCode.InvalidArgument, () => _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-json", DefinitionJson = "{not json" }, Key(Admin)).ResponseAsync);
        await FailsAsync(StatusCode.InvalidArgument, () => _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-empty" }, Key(Admin)).ResponseAsync);
        var limit = await FailsAsync(StatusCode.InvalidArgument, () => _grpc.Dags.ListAsync(new ListDagsRequest { Limit = 100_000 }, Key(Viewer)).ResponseAsync);
        Assert.Contains("limit", Fields(limit));
        await FailsAsync(StatusCode.NotFound, () => _grpc.Dags.GetAsync(new GetDagRequest { Name = "nope" }, Key(Viewer)).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => _grpc.Dags.PauseAsync(new PauseDagRequest { Name = "nope" }, Key(Operator)).ResponseAsync);
        Assert.Empty(await Admin.AuditAsync("action=dag.*"));
    }

    [Fact]
    public async Task Roles_AreTheRestRoles_AndAKeyIsRequired()
    {
        await _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-dag", DefinitionJson = Definition }, Key(Admin));
        var denied = await FailsAsync(StatusCode.PermissionDenied, () => _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = "g-dag", DefinitionJson = Definition }, Key(Operator)).ResponseAsync);
        Assert.Contains("operator", denied.Status.Detail);
        await FailsAsync(StatusCode.PermissionDenied, () => _grpc.Dags.PauseAsync(new PauseDagRequest { Name = "g-dag" }, Key(Viewer)).ResponseAsync);
        await FailsAsync(StatusCode.Unauthenticated, () => _grpc.Dags.GetAsync(new GetDagRequest { Name = "g-dag" }).ResponseAsync);
        var wrong = await FailsAsync(StatusCode.Unauthenticated, () => _grpc.Dags.GetAsync(new GetDagRequest { Name = "g-dag" }, Key("sk_not_a_key")).ResponseAsync);
        Assert.Contains("Invalid API key", wrong.Status.Detail);
        await FailsAsync(StatusCode.Unauthenticated, () => _grpc.Runs.Watch(new WatchRequest()).ResponseStream.MoveNext(CancellationToken.None));
        Assert.False((await _grpc.Dags.GetAsync(new GetDagRequest { Name = "g-dag" }, Key(Viewer))).Paused);
    }

    [Fact]
    public async Task Reflection_ListsTheServices()
    {
        var reflection = new ServerReflection.ServerReflectionClient(_grpc.Invoker);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("scheduler.v1.DagService", services);
        Assert.Contains("scheduler.v1.RunService", services);
    }

    public void Dispose() => _grpc.Dispose();
}
