using System.Runtime.CompilerServices;
using System.Text.Json;
using FluentValidation;

namespace Scheduler.Infrastructure.Validation;

/// <summary>
/// Error keys are JSON paths as clients wrote them (<c>tasks[2].depends_on[0]</c>), so the
/// member names FluentValidation reports are turned into the wire's snake_case.
/// Set once per process, before any validator runs (module initializer).
/// </summary>
internal static class ValidationConventions
{
#pragma warning disable CA2255 // The server assembly is the application; its conventions are process-wide by design.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) =>
            member is null ? null : JsonNamingPolicy.SnakeCaseLower.ConvertName(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) =>
            member is null ? null : JsonNamingPolicy.SnakeCaseLower.ConvertName(member.Name);
        ValidatorOptions.Global.LanguageManager.Enabled = true;
    }
}
