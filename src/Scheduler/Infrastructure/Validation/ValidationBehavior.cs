using FluentValidation;
using Mediator;

namespace Scheduler.Infrastructure.Validation;

/// <summary>
/// The one place requests are validated: every Mediator message with validators is checked
/// before its handler runs, so handlers can trust their input and no endpoint can forget.
/// </summary>
internal sealed class ValidationBehavior<TMessage, TResponse>(IEnumerable<IValidator<TMessage>> validators)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : notnull, IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        List<FluentValidation.Results.ValidationFailure>? failures = null;
        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(message, cancellationToken);
            if (!result.IsValid)
                (failures ??= []).AddRange(result.Errors);
        }
        if (failures is not null)
            throw new ValidationException(failures);
        return await next(message, cancellationToken);
    }
}
