using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Modules.Notifications.Delivery;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>Sends a test message now and reports whether the channel accepted it; nothing is recorded as a delivery.</summary>
internal static class TestChannel
{
    /// <summary>Null when the channel does not exist.</summary>
    public sealed record Command(string Name) : ICommand<Result?>;

    [SchemaName("Notifications.Channels.ManageChannels.TestResult")]
    public sealed record Result(string Channel, bool Delivered, string? Error, double DurationMs);

    public sealed class Handler(ChannelStore store, ChannelSender sender, TimeProvider clock) : ICommandHandler<Command, Result?>
    {
        public async ValueTask<Result?> Handle(Command command, CancellationToken cancellationToken)
        {
            if (await store.GetAsync(command.Name, cancellationToken) is not { } row)
                return null;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await sender.SendAsync(store.ToConfig(row), Messages.Test(row.Name, clock.GetUtcNow()), cancellationToken);
                return new Result(row.Name, true, null, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new Result(row.Name, false, ChannelSender.Describe(e), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder channels) => channels
        .MapPost("/{name}/test", async Task<Results<Ok<Result>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) is { } result ? TypedResults.Ok(result) : Problems.NotFound($"No channel named '{name}'."))
        .WithName("TestChannel").WithSummary("Send a test message now and report whether the channel accepted it")
        .RequireChannelRole(Roles.Admin);
}
