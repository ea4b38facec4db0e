using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Scheduler.Infrastructure.OpenApi;

/// <summary>
/// An endpoint that can answer with <see cref="ContentHttpResult"/> (text, such as a task log)
/// gets a typed 200 <c>text/plain</c> string response, which the result type does not describe
/// itself, so generated clients return the text instead of nothing.
/// </summary>
internal sealed class TextResponses : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var method = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<MethodInfo>().FirstOrDefault() ?? context.MethodInfo;
        if (method is null || !AnswersText(method.ReturnType))
            return;
        operation.Responses ??= new OpenApiResponses();
        if (operation.Responses.ContainsKey("200"))
            return;
        operation.Responses["200"] = new OpenApiResponse
        {
            Description = "OK",
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["text/plain"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        };
    }

    private static bool AnswersText(Type type)
    {
        if (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>)))
            return AnswersText(type.GenericTypeArguments[0]);
        if (type == typeof(ContentHttpResult))
            return true;
        return typeof(Microsoft.AspNetCore.Http.IResult).IsAssignableFrom(type) && type.IsGenericType && type.GenericTypeArguments.Any(AnswersText);
    }
}
