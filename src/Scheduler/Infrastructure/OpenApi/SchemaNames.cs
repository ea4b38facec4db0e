using System.Reflection;

namespace Scheduler.Infrastructure.OpenApi;

/// <summary>
/// The name of a type's schema in the OpenAPI document, fixed by hand. Generated clients name
/// their types after the schemas, so a schema keeps its name when its type moves to another
/// class (the names below are those the types had when the document was first published).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class SchemaNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Schema ids: the type's full name without <c>Scheduler.Modules.</c>, or its <see cref="SchemaNameAttribute"/>.</summary>
internal static class SchemaNames
{
    public static string For(Type type) => Name(type).Replace("Scheduler.Modules.", "").Replace('+', '.');

    /// <summary><see cref="Type.FullName"/>, with fixed names in place of the types (and type arguments) that have one.</summary>
    private static string Name(Type type) =>
        type.GetCustomAttribute<SchemaNameAttribute>()?.Name
        ?? (type.IsConstructedGenericType
            ? $"{type.GetGenericTypeDefinition().FullName}[{string.Join(",", type.GenericTypeArguments.Select(a => $"[{Name(a)}, {a.Assembly.FullName}]"))}]"
            : type.FullName!);
}
