using System.Net;
using System.Text.RegularExpressions;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Authoring;

/// <summary>The worked example of docs/authoring.md, read from the guide itself, runs as written.</summary>
public sealed partial class GuideExampleTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task WorkedEtlExample_RunsAsWritten()
    {
        var guide = await File.ReadAllTextAsync(Repository.PathOf("docs", "authoring.md"));
        var dag = DagBlock().Match(guide).Groups["dag"].Value;
        var variable = VariableBlock().Match(guide).Groups["value"].Value;
        var folder = Directory.CreateTempSubdirectory("etl-guide-").FullName;
        // The guide writes under /tmp/etl-out; the test under a folder of its own.
        await Admin.PutJsonAsync("variables/etl_target", variable.Replace("/tmp/etl-out", folder, StringComparison.Ordinal)).ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", dag).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("etl", """{"logical_date":"2026-12-02T06:00:00Z"}""");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", run.GetProperty("state").GetString());
        Assert.Equal(2, (await Viewer.GetAsync($"runs/{runId}/tasks/count/output").ExpectAsync(HttpStatusCode.OK)).GetProperty("rows").GetInt32());
        Assert.True(File.Exists(Path.Combine(folder, "2026-12-02", "sales-2.csv")));
        // transform is mapped: one instance per file listed by extract.
        Assert.Equal(2, RunHelpers.Instances(run, "transform").Count);
        Assert.Equal("skipped", RunHelpers.State(run, "nothing_to_load"));
        var log = await (await Viewer.GetAsync($"runs/{runId}/tasks/load/logs")).Content.ReadAsStringAsync();
        Assert.Contains("loading 2 rows of 2 files [\"sales-1.csv\",\"sales-2.csv\"] for 2026-12-02", log);
        Directory.Delete(folder, recursive: true);
    }

    [GeneratedRegex(@"-d @- <<'JSON'\n(?<dag>.*?)\nJSON\n", RegexOptions.Singleline)]
    private static partial Regex DagBlock();

    [GeneratedRegex(@"variables/etl_target .*?-d '(?<value>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex VariableBlock();
}
