using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Scheduler.Infrastructure.Templates;

/// <summary>
/// A JSON object's members as Liquid reads them: asking for a member it does not have throws
/// (Fluid's strict mode covers top-level names only, and would render <c>params.typo</c> as
/// empty). The message names the whole path, e.g. <c>'outputs.extract.fils' is not defined</c>.
/// </summary>
internal sealed class StrictMembers(string path, Dictionary<string, object?> members) : IDictionary<string, object?>
{
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        if (members.TryGetValue(key, out value))
            return true;
        throw new TemplateException($"'{path}.{key}' is not defined (known: {(members.Count == 0 ? "none" : string.Join(", ", members.Keys.Order(StringComparer.Ordinal)))}).");
    }

    public object? this[string key]
    {
        get => TryGetValue(key, out var value) ? value : null;
        set => throw new NotSupportedException();
    }

    public ICollection<string> Keys => members.Keys;
    public ICollection<object?> Values => members.Values;
    public int Count => members.Count;
    public bool IsReadOnly => true;
    public bool ContainsKey(string key) => members.ContainsKey(key);
    public bool Contains(KeyValuePair<string, object?> item) => ((ICollection<KeyValuePair<string, object?>>)members).Contains(item);
    public void CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) => ((ICollection<KeyValuePair<string, object?>>)members).CopyTo(array, arrayIndex);
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => members.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => members.GetEnumerator();
    public void Add(string key, object? value) => throw new NotSupportedException();
    public void Add(KeyValuePair<string, object?> item) => throw new NotSupportedException();
    public bool Remove(string key) => throw new NotSupportedException();
    public bool Remove(KeyValuePair<string, object?> item) => throw new NotSupportedException();
    public void Clear() => throw new NotSupportedException();
}
