using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NJsonSchema.CodeGeneration.CSharp;
using NSwag;
using NSwag.CodeGeneration.CSharp;

namespace Scheduler.IntegrationTests.Client;

/// <summary>
/// What a client author does with the server's OpenAPI document: NSwag's C# client generator
/// (as <c>openapi2csclient</c> with System.Text.Json), then the C# compiler.
/// </summary>
public static class ClientGenerator
{
    public static async Task<string> GenerateAsync(string openApiJson)
    {
        var document = await OpenApiDocument.FromJsonAsync(openApiJson);
        var settings = new CSharpClientGeneratorSettings
        {
            ClassName = "GeneratedSchedulerClient",
            GenerateClientInterfaces = true,
            CSharpGeneratorSettings =
            {
                Namespace = "Generated.Scheduler",
                JsonLibrary = CSharpJsonLibrary.SystemTextJson,
                GenerateNullableReferenceTypes = true,
            },
        };
        return new CSharpClientGenerator(document, settings).GenerateFile();
    }

    /// <summary>Compiles <paramref name="code"/> against the running framework; the errors, if any.</summary>
    public static IReadOnlyList<Diagnostic> Compile(string code)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create(
            "GeneratedSchedulerClient",
            [CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var output = new MemoryStream();
        var result = compilation.Emit(output);
        return result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
    }
}
