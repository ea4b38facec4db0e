using FluentValidation;
using FluentValidation.Results;
using Mediator;
using Scheduler.Modules.Access.Contracts;

namespace Scheduler.Modules.Dags.Definitions;

internal sealed partial class DagDefinitionValidator
{
    /// <summary>
    /// Validates a definition inside a request's validator, keeping the definition's own
    /// paths (<c>tasks[0].id</c>, not <c>definition.tasks[0].id</c>), and checks that its
    /// <c>team</c> exists (a 400 keyed <c>team</c>).
    /// </summary>
    public static void Include<T>(AbstractValidator<T> requestValidator, DagDefinitionValidator definitionValidator, Func<T, DagDefinition?> definition, ISender sender)
    {
        requestValidator.RuleFor(r => definition(r)!.Team).KnownTeam(sender).OverridePropertyName("team").When(r => definition(r) is not null);
        requestValidator.RuleFor(r => r).CustomAsync(async (request, ctx, ct) =>
        {
            var d = definition(request);
            if (d is null)
            {
                ctx.AddFailure(new ValidationFailure("$", "a DAG definition is required in the body."));
                return;
            }
            var result = await definitionValidator.ValidateAsync(d, ct);
            foreach (var failure in result.Errors)
                ctx.AddFailure(failure);
        });
    }
}
