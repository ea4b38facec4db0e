using System.Text.Json.Nodes;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Runs.Assets;

/// <summary>
/// <c>POST /assets/events</c>: an external system says an asset was updated. The event, its
/// audit entry (<c>asset.event</c>) and the scheduler's wake-up commit together; DAGs scheduled
/// on the asset get their run from the scheduler loop within about a second.
/// </summary>
internal static class PostAssetEvent
{
    public const int MaxExtraBytes = 65_536;

    public sealed record Request(string? Uri, JsonObject? Extra);

    public sealed record Command(string? Uri, JsonObject? Extra, string? Actor) : ICommand<AssetEventInfo>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Uri).Custom((uri, ctx) =>
            {
                if (uri is null)
                    ctx.AddFailure("uri", "'uri' (the asset's URI) is required.");
                else if (AssetUris.Problem(uri) is { } problem)
                    ctx.AddFailure("uri", problem);
            });
            RuleFor(c => c.Extra).Must(e => System.Text.Encoding.UTF8.GetByteCount(e!.ToJsonString()) <= MaxExtraBytes)
                .WithMessage($"'extra' is at most {MaxExtraBytes} bytes of JSON.").OverridePropertyName("extra").When(c => c.Extra is not null);
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource, AuditTrail audit) : ICommandHandler<Command, AssetEventInfo>
    {
        public async ValueTask<AssetEventInfo> Handle(Command command, CancellationToken cancellationToken)
        {
            var extra = command.Extra ?? [];
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            var id = (await AssetEventLog.RecordAsync(connection, tx, [new NewAssetEvent(command.Uri!, extra, CreatedBy: command.Actor)], cancellationToken))[0];
            await audit.WriteAsync(connection, tx, "asset.event", AuditTargets.Asset(command.Uri!), new JsonObject { ["event_id"] = id }, cancellationToken);
            AssetEventInfo info;
            await using (var cmd = new NpgsqlCommand($"select {AssetEventInfo.Columns} from runs.asset_events where id = @id", connection, tx))
            {
                cmd.Parameters.AddWithValue("id", id);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                info = AssetEventInfo.Read(reader);
            }
            await tx.CommitAsync(cancellationToken);
            return info;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/assets/events", async Task<Created<AssetEventInfo>> (Request request, ISender sender, HttpContext http, CancellationToken ct) =>
        {
            var info = await sender.Send(new Command(request.Uri, request.Extra, http.User.Identity?.Name), ct);
            return TypedResults.Created($"/api/v1/assets/events?uri={Uri.EscapeDataString(info.Uri)}", info);
        })
        .WithName("PostAssetEvent").WithTags("Assets").WithSummary("Record an asset event (an external update of the asset)")
        .WithDescription("DAGs scheduled on the asset get a run (run_type 'asset') once each of their assets has a new event.")
        .ProducesValidationProblem()
        .RequireAuthorization(Policies.Operator);
}
