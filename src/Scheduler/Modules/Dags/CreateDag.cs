using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.Modules.Dags;

internal static class CreateDag
{
    public sealed record Command(DagDefinition? Definition, string? Actor) : ICommand<DagDetails?>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(DagDefinitionValidator definition, ISender sender) => DagDefinitionValidator.Include(this, definition, c => c.Definition, sender);
    }

    /// <summary>Returns null when the name is taken (the unique key decides, not a pre-check).</summary>
    public sealed class Handler(DagsDbContext db, Calendars.CalendarCache calendars, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, DagDetails?>
    {
        public async ValueTask<DagDetails?> Handle(Command command, CancellationToken cancellationToken)
        {
            var prepared = PreparedDefinition.From(command.Definition!);
            var dag = await DagStore.TryInsertAsync(db, audit, prepared, command.Actor, clock.GetUtcNow(), await calendars.GetAsync(cancellationToken), cancellationToken);
            return dag?.ToDetails();
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapPost("/", async Task<Results<Created<DagDetails>, ProblemHttpResult>> (DagDefinition definition, ISender sender, HttpContext http, CancellationToken ct) =>
        {
            if (TeamGate.CreateRefusal(http, definition.Team) is { } refused)
                return refused;
            var created = await sender.Send(new Command(definition, http.User.Identity?.Name), ct);
            if (created is not null)
                return TypedResults.Created($"/api/v1/dags/{created.Name}", created);
            return await sender.Send(new GetDag.Query(definition.Name!), ct) is { Source.Repository: { } owner }
                ? Problems.Conflict(DagStore.OwnedMessage(definition.Name!, owner))
                : Problems.Conflict($"A DAG named '{definition.Name}' already exists; use PUT /api/v1/dags/{definition.Name} to replace it.");
        })
        .WithName("CreateDag")
        .WithSummary("Create a DAG")
        .WithDescription("Validates and stores a new DAG as version 1. 409 when the name exists.")
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .RequireAuthorization(Policies.TeamAdmin);
}
