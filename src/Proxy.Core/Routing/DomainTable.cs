using System.Text;

namespace Proxy.Routing;

/// <summary>
/// An open-addressed table from (domain text, port) to a virtual host's position, built once per configuration.
/// Keys are lowercase ASCII and are compared with the request's bytes case-insensitively, so a lookup copies and
/// allocates nothing. Kept at most half full; keys come only from configuration, so requests cannot lengthen probes.
/// </summary>
internal sealed class DomainTable
{
    private readonly byte[]?[] _keys;
    private readonly int[] _ports;
    private readonly int[] _values;
    private readonly int _mask;

    private DomainTable(int size)
    {
        _keys = new byte[]?[size];
        _ports = new int[size];
        _values = new int[size];
        _mask = size - 1;
    }

    /// <summary>True when the table holds no key, so lookups can be skipped.</summary>
    public bool IsEmpty { get; private set; } = true;

    /// <summary>Builds a table over distinct (text, port) keys; the caller has rejected duplicates.</summary>
    public static DomainTable Build(IReadOnlyList<(string Text, int Port, int Value)> entries)
    {
        int size = 2;
        while (size < entries.Count * 2)
        {
            size *= 2;
        }

        var table = new DomainTable(size);
        foreach ((string text, int port, int value) in entries)
        {
            byte[] key = Encoding.ASCII.GetBytes(text);
            int slot = Slot(key, port, table._mask);
            while (table._keys[slot] is not null)
            {
                slot = (slot + 1) & table._mask;
            }

            table._keys[slot] = key;
            table._ports[slot] = port;
            table._values[slot] = value;
            table.IsEmpty = false;
        }

        return table;
    }

    /// <summary>
    /// The value of <paramref name="key"/> with <paramref name="port"/>, else of <paramref name="key"/> with any port
    /// (-1), else -1: a domain naming the request's port is more specific than the same domain without one.
    /// </summary>
    public int Find(ReadOnlySpan<byte> key, int port)
    {
        if (port >= 0)
        {
            int withPort = FindExactly(key, port);
            if (withPort >= 0)
            {
                return withPort;
            }
        }

        return FindExactly(key, -1);
    }

    private int FindExactly(ReadOnlySpan<byte> key, int port)
    {
        byte[]?[] keys = _keys;
        int slot = Slot(key, port, _mask);
        while (true)
        {
            byte[]? candidate = keys[slot];
            if (candidate is null)
            {
                return -1;
            }

            if (_ports[slot] == port && candidate.Length == key.Length && Ascii.EqualsIgnoreCase(key, candidate))
            {
                return _values[slot];
            }

            slot = (slot + 1) & _mask;
        }
    }

    private static int Slot(ReadOnlySpan<byte> key, int port, int mask) =>
        (int)(AsciiCaseFoldHash.Of(key) ^ ((uint)port * 0x9E3779B1u)) & mask;
}
