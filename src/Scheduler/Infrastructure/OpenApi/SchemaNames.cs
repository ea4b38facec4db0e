using System.Collections.Concurrent;
using System.Reflection;
using System.Text;

namespace Scheduler.Infrastructure.OpenApi;

/// <summary>
/// The name of a type's schema in the OpenAPI document, fixed by hand. Generated clients name
/// their types after the schemas, so a schema keeps its name when its type moves to another
/// class. A dotted name (<c>Runs.Pools.Item</c>, as such names were first published) becomes
/// its last two parts (<c>PoolsItem</c>), as a type nested in a class would.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class SchemaNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// Schema ids that every client generator accepts: letters and digits only, readable, stable.
/// A top-level type is its name (<c>DagSummary</c>); a nested type is its declaring types' names
/// and its own (<c>TriggerDagRun.Request</c> is <c>TriggerDagRunRequest</c>); a generic type is its
/// arguments' ids then its own name (<c>Page&lt;DagSummary&gt;</c> is <c>DagSummaryPage</c>).
/// Endpoints added later get such names without any work. Two types that would share an id
/// (same names in two modules) are told apart by the namespace of the one seen second, never
/// by a number; the document generation order is fixed, so that choice is too.
/// </summary>
internal sealed class SchemaNames
{
    private readonly ConcurrentDictionary<string, Type> _owners = new();

    public string For(Type type)
    {
        var id = Readable(type);
        var owner = _owners.GetOrAdd(id, type);
        if (owner == type)
            return id;
        var qualified = Clean(type.Namespace?.Replace("Scheduler.Modules.", "").Replace("Scheduler.", "") ?? "") + id;
        return _owners.GetOrAdd(qualified, type) == type ? qualified : Clean(type.FullName ?? qualified);
    }

    /// <summary>The id a type gets when no other type claims it first.</summary>
    public static string Readable(Type type)
    {
        if (type.GetCustomAttribute<SchemaNameAttribute>()?.Name is { } fixedName)
            return Clean(string.Concat(fixedName.Split('.').TakeLast(2)));
        if (type.IsArray)
            return Readable(type.GetElementType()!) + "Array";
        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return Readable(underlying);
        var name = new StringBuilder();
        if (type.IsConstructedGenericType)
            foreach (var argument in type.GenericTypeArguments)
                name.Append(Readable(argument));
        name.Append(string.Concat(Chain(type).Select(t => WithoutArity(t.Name))));
        return Clean(name.ToString());
    }

    /// <summary>The type and the types it is nested in, outermost first.</summary>
    private static IEnumerable<Type> Chain(Type type)
    {
        var chain = new Stack<Type>();
        for (var t = type; t is not null; t = t.DeclaringType)
            chain.Push(t);
        return chain;
    }

    private static string WithoutArity(string name) => name.IndexOf('`') is var tick and >= 0 ? name[..tick] : name;

    private static string Clean(string name)
    {
        var clean = new string(name.Where(char.IsAsciiLetterOrDigit).ToArray());
        return clean.Length > 0 && char.IsAsciiLetter(clean[0]) ? clean : "T" + clean;
    }
}
