using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Git;

/// <summary>
/// DAG files from a real git repository (made with the git CLI, served by file://) on a second
/// server configured with it; the fixture's server has no repository and runs the runs.
/// </summary>
public sealed class GitSyncTests(ServerFixture server) : ServerTest(server), IDisposable
{
    private readonly GitRepository _repo = new();

    private const string Etl = """{"name":"etl","tasks":[{"id":"extract"},{"id":"load","depends_on":["extract"]}]}""";
    private const string ReportYaml = """
        name: report
        cron: "0 9 * * *"
        description: built from YAML
        tasks:
          - id: fetch
            type: noop
            retries: 2
          - id: send
            depends_on: [fetch]
        """;

    private ExtraServer Start(string path = "dags") => new(new Dictionary<string, string?>
    {
        ["Dags:Git:Repository"] = _repo.Url,
        ["Dags:Git:Branch"] = "main",
        ["Dags:Git:Path"] = path,
        ["Dags:Git:PollSeconds"] = "3600",
    });

    private static async Task<JsonElement> SyncAsync(HttpClient client) =>
        await client.PostAsync("dags/sync", null).ExpectAsync(HttpStatusCode.OK);

    [Fact]
    public async Task Sync_ImportsJsonAndYaml_RecordsCommitAndPath_AndTheDagRuns()
    {
        var commit = _repo.Commit("first", ("dags/etl.json", Etl), ("dags/team/report.yaml", ReportYaml), ("README.md", "not a DAG"), ("other/x.json", "{}"));
        await using var git = Start();
        using var client = git.NewClient(ServerFixture.BootstrapKey);
        var sync = await SyncAsync(client);
        Assert.Equal(commit, sync.GetProperty("commit").GetString());

        var versions = await Viewer.GetAsync("dags/report/versions").ExpectAsync(HttpStatusCode.OK);
        var source = versions.GetProperty("items")[0].GetProperty("source");
        Assert.Equal(commit, source.GetProperty("commit").GetString());
        Assert.Equal("dags/team/report.yaml", source.GetProperty("path").GetString());
        var report = await Viewer.GetAsync("dags/report").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("0 9 * * *", report.GetProperty("cron").GetString());
        Assert.Equal(2, report.GetProperty("definition").GetProperty("tasks")[0].GetProperty("retries").GetInt32());
        Assert.Equal(_repo.Url, report.GetProperty("source").GetProperty("repository").GetString());
        Assert.Equal("git", (await Viewer.GetAsync("dags/etl/versions").ExpectAsync(HttpStatusCode.OK)).GetProperty("items")[0].GetProperty("created_by").GetString());
        // Only files under the path are DAGs.
        await Viewer.GetAsync("dags/x").ExpectProblemAsync(HttpStatusCode.NotFound);

        // The same commit again changes nothing, on any replica.
        var again = await SyncAsync(client);
        Assert.False(again.GetProperty("changed").GetBoolean());

        var run = await Operator.WaitForRunAsync(await Operator.TriggerAsync("etl"));
        Assert.Equal("success", run.GetProperty("state").GetString());
    }

    [Fact]
    public async Task RestWrites_OfAGitDag_Are409NamingTheRepository_PauseIsAllowed()
    {
        _repo.Commit("first", ("dags/etl.json", Etl));
        await using var git = Start();
        await SyncAsync(git.NewClient(ServerFixture.BootstrapKey));

        var put = await Admin.PutJsonAsync("dags/etl", """{"tasks":[{"id":"other"}]}""").ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains(_repo.Url, put.GetProperty("detail").GetString());
        var post = await Admin.PostJsonAsync("dags", Etl).ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains(_repo.Url, post.GetProperty("detail").GetString());
        var delete = await Admin.DeleteAsync("dags/etl").ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains(_repo.Url, delete.GetProperty("detail").GetString());
        Assert.Equal(1, (await Viewer.GetAsync("dags/etl").ExpectAsync(HttpStatusCode.OK)).GetProperty("version").GetInt32());
        await Operator.PostAsync("dags/etl/pause", null).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task InvalidFile_IsAnImportError_AndTheDagKeepsItsLastGoodVersion_UntilFixed()
    {
        _repo.Commit("good", ("dags/etl.json", Etl));
        await using var git = Start();
        using var client = git.NewClient(ServerFixture.BootstrapKey);
        await SyncAsync(client);

        var bad = _repo.Commit("bad", ("dags/etl.json", """{"name":"etl","tasks":[{"id":"a","depends_on":["missing"]}]}"""),
            ("dags/broken.yaml", "name: [unclosed"), ("dags/typo.json", """{"name":"typo","tasks":[{"id":"a","retries":"x"}]}"""));
        var sync = await SyncAsync(client);
        Assert.Equal(3, sync.GetProperty("import_errors").GetInt32());

        var errors = (await Viewer.GetAsync("dags/import-errors").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["dags/broken.yaml", "dags/etl.json", "dags/typo.json"], errors.Select(e => e.GetProperty("path").GetString()));
        Assert.All(errors, e => Assert.Equal(bad, e.GetProperty("commit").GetString()));
        Assert.True(errors[1].GetProperty("errors").TryGetProperty("tasks[0].depends_on[0]", out _), errors[1].ToString());
        Assert.True(errors[2].GetProperty("errors").TryGetProperty("tasks[0].retries", out _), errors[2].ToString());
        Assert.Contains("YAML", errors[0].GetProperty("message").GetString());

        using (var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword))
        {
            var page = await session.GetHtmlAsync("/admin/dags");
            Assert.Contains("data-testid=\"import-errors\"", page);
            Assert.Contains("dags/broken.yaml", page);
            Assert.Contains("tasks[0].depends_on[0]", page);
        }

        var etl = await Viewer.GetAsync("dags/etl").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(1, etl.GetProperty("version").GetInt32());
        Assert.False(etl.GetProperty("paused").GetBoolean());

        var fixedCommit = _repo.Commit("fixed", ("dags/etl.json", """{"name":"etl","tasks":[{"id":"extract"}]}"""), ("dags/broken.yaml", null), ("dags/typo.json", null));
        await SyncAsync(client);
        Assert.Empty((await Viewer.GetAsync("dags/import-errors").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        var versions = (await Viewer.GetAsync("dags/etl/versions").ExpectAsync(HttpStatusCode.OK)).GetProperty("items");
        Assert.Equal(2, versions[0].GetProperty("version").GetInt32());
        Assert.Equal(fixedCommit, versions[0].GetProperty("source").GetProperty("commit").GetString());
        using (var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword))
        {
            var page = await session.GetHtmlAsync("/admin/dags/etl?from=1&to=2");
            Assert.Contains("data-testid=\"diff-commits\"", page);
            Assert.Contains(fixedCommit, page);
            Assert.DoesNotContain("data-testid=\"edit-dag\"", page);
        }
    }

    [Fact]
    public async Task RemovedFile_PausesItsDag_NotDeleted_AndRestoringItUnpauses()
    {
        _repo.Commit("two", ("dags/etl.json", Etl), ("dags/report.yml", ReportYaml));
        await using var git = Start();
        using var client = git.NewClient(ServerFixture.BootstrapKey);
        await SyncAsync(client);

        _repo.Commit("remove", ("dags/report.yml", null));
        var sync = await SyncAsync(client);
        Assert.Equal(["report"], sync.GetProperty("paused").EnumerateArray().Select(p => p.GetString()));
        var report = await Viewer.GetAsync("dags/report").ExpectAsync(HttpStatusCode.OK);
        Assert.True(report.GetProperty("paused").GetBoolean());
        Assert.False(report.GetProperty("source").TryGetProperty("path", out _));
        Assert.False((await Viewer.GetAsync("dags/etl").ExpectAsync(HttpStatusCode.OK)).GetProperty("paused").GetBoolean());

        _repo.Commit("restore", ("dags/report.yml", ReportYaml));
        await SyncAsync(client);
        report = await Viewer.GetAsync("dags/report").ExpectAsync(HttpStatusCode.OK);
        Assert.False(report.GetProperty("paused").GetBoolean());
        Assert.Equal(1, report.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task TwoServerProcesses_SyncingTogether_ImportTheCommitOnce()
    {
        var commit = _repo.Commit("first", ("dags/etl.json", Etl), ("dags/report.yaml", ReportYaml));
        using var servers = new ServerProcesses();
        var settings = new Dictionary<string, string>
        {
            ["Workers__Enabled"] = "false",
            ["Scheduler__Enabled"] = "false",
            ["Notifications__RunDeliveryServer"] = "false",
            ["Dags__Git__Repository"] = _repo.Url,
            ["Dags__Git__Path"] = "dags",
            ["Dags__Git__PollSeconds"] = "3600",
        };
        var a = servers.StartAsync(TestDatabase.ConnectionString, ServerFixture.BootstrapKey, settings);
        var b = servers.StartAsync(TestDatabase.ConnectionString, ServerFixture.BootstrapKey, settings);
        var (_, first) = await a;
        var (_, second) = await b;
        var syncs = await Task.WhenAll(SyncAsync(first), SyncAsync(second), SyncAsync(first), SyncAsync(second));
        Assert.All(syncs, s => Assert.Equal(commit, s.GetProperty("commit").GetString()));

        foreach (var name in new[] { "etl", "report" })
        {
            var versions = (await Viewer.GetAsync($"dags/{name}/versions").ExpectAsync(HttpStatusCode.OK)).GetProperty("items");
            Assert.Equal(1, versions.GetArrayLength());
        }
        Assert.Equal(1L, await TestDatabase.ScalarAsync<long>("select count(*) from dags.git_syncs where commit = @c", ("c", commit)));
    }

    [Fact]
    public async Task WithoutARepository_SyncIs409_AndThereAreNoImportErrors()
    {
        var problem = await Operator.PostAsync("dags/sync", null).ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("Dags__Git__Repository", problem.GetProperty("detail").GetString());
        await Viewer.PostAsync("dags/sync", null).ExpectProblemAsync(HttpStatusCode.Forbidden);
        Assert.Empty((await Viewer.GetAsync("dags/import-errors").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task UnreachableRepository_Is502_WithGitsMessage()
    {
        await using var git = new ExtraServer(new Dictionary<string, string?>
        {
            ["Dags:Git:Repository"] = new Uri(Path.Combine(_repo.Folder, "missing")).AbsoluteUri,
            ["Dags:Git:PollSeconds"] = "3600",
        });
        var problem = await git.NewClient(ServerFixture.BootstrapKey).PostAsync("dags/sync", null).ExpectProblemAsync(HttpStatusCode.BadGateway);
        Assert.Contains("git fetch failed", problem.GetProperty("detail").GetString());
    }

    public void Dispose() => _repo.Dispose();
}
