using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>Deletes a channel; its deliveries go with it (foreign key cascade).</summary>
internal static class DeleteChannel
{
    public sealed record Command(string Name) : ICommand<bool>;

    public sealed class Handler(NpgsqlDataSource dataSource) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var cmd = dataSource.CreateCommand("delete from notifications.channels where name = @name");
            cmd.Parameters.AddWithValue("name", command.Name);
            return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder channels) => channels
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No channel named '{name}'."))
        .WithName("DeleteChannel").WithSummary("Delete a channel and its delivery history")
        .ProducesProblem(StatusCodes.Status404NotFound);
}
