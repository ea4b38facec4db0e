using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Client;

/// <summary>samples/DeployDag, built, run against the real server: deploys and triggers a DAG, exits 0 when the run succeeded.</summary>
public sealed class DeployDagSampleTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Sample_DeploysAndRunsItsDag()
    {
        using var sample = BuiltTool.DeployDagSample();
        var result = await sample.RunAsync([Server.BaseAddress.AbsoluteUri, ServerFixture.BootstrapKey], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("created sample_deploy version 1", result.Out);
        Assert.Matches(@"run \d+ success", result.Out);
    }
}
