namespace Proxy.Routing;

/// <summary>
/// Chooses the virtual host for a request's Host with Envoy's precedence: an exact domain, then the longest
/// suffix wildcard ("*.example.com"), then the longest prefix wildcard ("api.*"), then "*". At each step a domain
/// naming the request's port wins over the same domain without one. The cost does not grow with the number of
/// virtual hosts: one hash lookup for exact domains and one per distinct wildcard length (as Envoy does), which
/// host-name lengths bound, not the configuration's size. Allocates nothing.
/// </summary>
internal sealed class VirtualHostIndex
{
    private readonly DomainTable _exact;
    private readonly DomainTable _suffixes;
    private readonly int[] _suffixLengths;
    private readonly DomainTable _prefixes;
    private readonly int[] _prefixLengths;
    private readonly int _any;

    private VirtualHostIndex(DomainTable exact, DomainTable suffixes, int[] suffixLengths, DomainTable prefixes, int[] prefixLengths, int any)
    {
        _exact = exact;
        _suffixes = suffixes;
        _suffixLengths = suffixLengths;
        _prefixes = prefixes;
        _prefixLengths = prefixLengths;
        _any = any;
    }

    /// <summary>Builds the index; <paramref name="domains"/>[i] are virtual host i's parsed, distinct domains.</summary>
    public static VirtualHostIndex Build(IReadOnlyList<DomainPattern[]> domains)
    {
        var exact = new List<(string, int, int)>();
        var suffixes = new List<(string, int, int)>();
        var prefixes = new List<(string, int, int)>();
        var suffixLengths = new SortedSet<int>(Comparer<int>.Create((a, b) => b.CompareTo(a)));
        var prefixLengths = new SortedSet<int>(Comparer<int>.Create((a, b) => b.CompareTo(a)));
        int any = -1;
        for (int v = 0; v < domains.Count; v++)
        {
            foreach (DomainPattern domain in domains[v])
            {
                switch (domain.Kind)
                {
                    case DomainKind.Exact:
                        exact.Add((domain.Text, domain.Port, v));
                        break;
                    case DomainKind.Suffix:
                        suffixes.Add((domain.Text, domain.Port, v));
                        suffixLengths.Add(domain.Text.Length);
                        break;
                    case DomainKind.Prefix:
                        prefixes.Add((domain.Text, domain.Port, v));
                        prefixLengths.Add(domain.Text.Length);
                        break;
                    default:
                        any = any < 0 ? v : any;
                        break;
                }
            }
        }

        return new VirtualHostIndex(
            DomainTable.Build(exact), DomainTable.Build(suffixes), [.. suffixLengths], DomainTable.Build(prefixes), [.. prefixLengths], any);
    }

    /// <summary>The position of the virtual host for <paramref name="host"/> (normalized, no port) and <paramref name="port"/> (-1 for none), or -1.</summary>
    public int Find(ReadOnlySpan<byte> host, int port)
    {
        if (!_exact.IsEmpty)
        {
            int exact = _exact.Find(host, port);
            if (exact >= 0)
            {
                return exact;
            }
        }

        // Longest first; the wildcard covers at least one character, so the fixed part is strictly shorter than the host.
        int[] lengths = _suffixLengths;
        for (int i = 0; i < lengths.Length; i++)
        {
            int length = lengths[i];
            if (length < host.Length)
            {
                int suffix = _suffixes.Find(host.Slice(host.Length - length), port);
                if (suffix >= 0)
                {
                    return suffix;
                }
            }
        }

        lengths = _prefixLengths;
        for (int i = 0; i < lengths.Length; i++)
        {
            int length = lengths[i];
            if (length < host.Length)
            {
                int prefix = _prefixes.Find(host.Slice(0, length), port);
                if (prefix >= 0)
                {
                    return prefix;
                }
            }
        }

        return _any;
    }
}
