using Microsoft.Extensions.Options;

namespace Scheduler.Modules.Dags.Git;

/// <summary>Syncs at start-up and every <c>Dags:Git:PollSeconds</c>; does nothing without a repository.</summary>
internal sealed class GitPoller(GitImporter importer, IOptions<GitOptions> options, TimeProvider clock, ILogger<GitPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!importer.Configured)
            return;
        var period = TimeSpan.FromSeconds(Math.Max(1, options.Value.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await importer.SyncAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Git sync of {Repository} failed; trying again in {Seconds} s", importer.Repository, period.TotalSeconds);
            }
            try
            {
                await Task.Delay(period, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
