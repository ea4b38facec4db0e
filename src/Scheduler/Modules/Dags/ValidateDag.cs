using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.Modules.Dags;

/// <summary>A dry run of create: the same checks, nothing stored (editors and CI lint).</summary>
internal static class ValidateDag
{
    public sealed record Command(DagDefinition? Definition) : ICommand<Response>;

    public sealed record Response(bool Valid, string Hash, int TaskCount);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(DagDefinitionValidator definition, ISender sender) => DagDefinitionValidator.Include(this, definition, c => c.Definition, sender);
    }

    public sealed class Handler : ICommandHandler<Command, Response>
    {
        public ValueTask<Response> Handle(Command command, CancellationToken cancellationToken)
        {
            var prepared = PreparedDefinition.From(command.Definition!);
            return ValueTask.FromResult(new Response(true, prepared.Hash, command.Definition!.Tasks!.Count));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapPost("/validate", async Task<Ok<Response>> (DagDefinition definition, ISender sender, CancellationToken ct) =>
            TypedResults.Ok(await sender.Send(new Command(definition), ct)))
        .WithName("ValidateDag")
        .WithSummary("Validate a definition without storing it")
        .RequireAuthorization(Policies.TeamViewer);
}
