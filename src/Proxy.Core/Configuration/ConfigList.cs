using System.Collections;

namespace Proxy.Configuration;

/// <summary>
/// An immutable list with value equality, so that config records compare structurally
/// (two loads of equivalent files give equal models; a reload can tell "nothing changed").
/// </summary>
public sealed class ConfigList<T> : IReadOnlyList<T>, IEquatable<ConfigList<T>>
{
    private readonly T[] _items;

    /// <summary>The shared empty list.</summary>
    public static ConfigList<T> Empty { get; } = new([]);

    public ConfigList(T[] items)
    {
        _items = items;
    }

    /// <summary>Copies <paramref name="items"/>; returns <see cref="Empty"/> for none.</summary>
    public static ConfigList<T> From(List<T> items) => items.Count == 0 ? Empty : new ConfigList<T>(items.ToArray());

    public T this[int index] => _items[index];

    public int Count => _items.Length;

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public bool Equals(ConfigList<T>? other)
    {
        if (other is null || other._items.Length != _items.Length)
        {
            return false;
        }
        var comparer = EqualityComparer<T>.Default;
        for (int i = 0; i < _items.Length; i++)
        {
            if (!comparer.Equals(_items[i], other._items[i]))
            {
                return false;
            }
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is ConfigList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items)
        {
            hash.Add(item);
        }
        return hash.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", _items) + "]";
}
