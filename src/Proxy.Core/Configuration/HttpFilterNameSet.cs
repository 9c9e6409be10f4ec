using System.Collections;
using System.Collections.Concurrent;

namespace Proxy.Configuration;

/// <summary>The names of the HTTP filters a config may name; filters registered at runtime add theirs.</summary>
public sealed class HttpFilterNameSet : IReadOnlyCollection<string>
{
    private readonly ConcurrentDictionary<string, byte> _names = new(StringComparer.Ordinal);

    public HttpFilterNameSet(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            Add(name);
        }
    }

    public int Count => _names.Count;

    /// <summary>Makes <paramref name="name"/> acceptable in <c>http_filters</c>.</summary>
    public void Add(string name) => _names.TryAdd(name, 0);

    public bool Contains(string name) => _names.ContainsKey(name);

    public IEnumerator<string> GetEnumerator() => _names.Keys.Order(StringComparer.Ordinal).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
