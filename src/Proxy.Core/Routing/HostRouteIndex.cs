using System.Text;

namespace Proxy.Routing;

/// <summary>
/// Narrows the routes to try by request host, so tables with many virtual hosts are not scanned linearly.
/// Every exact host named by some route gets a candidate list: all routes that can match that host (the
/// exact ones, matching wildcards, and host-less ones) in definition order, so first-match-wins is kept.
/// Any other host gets the list of wildcard and host-less routes. Lookup hashes the host bytes
/// case-insensitively, a word at a time, into an open-addressed table built once; it allocates nothing.
/// </summary>
/// <remarks>
/// Keys come only from configuration, so a hostile Host header cannot lengthen probe chains; the table
/// is kept at most half full, so a miss ends at an empty slot after a probe or two.
/// </remarks>
internal sealed class HostRouteIndex
{
    // Slot i holds a lowercase host and its candidates, or null keys for empty slots. Length is a power of two.
    private readonly byte[]?[] _keys;
    private readonly Route[][] _candidates;
    private readonly int _mask;
    private readonly Route[] _otherHosts;

    private HostRouteIndex(byte[]?[] keys, Route[][] candidates, Route[] otherHosts)
    {
        _keys = keys;
        _candidates = candidates;
        _mask = keys.Length - 1;
        _otherHosts = otherHosts;
    }

    /// <summary>Builds the index over compiled routes (in definition order).</summary>
    public static HostRouteIndex Build(Route[] routes)
    {
        var otherHosts = new List<Route>();
        var exactHosts = new List<byte[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (Route route in routes)
        {
            byte[]? exact = route.Host.ExactHost;
            if (exact is null)
            {
                otherHosts.Add(route);
            }
            else if (seen.Add(Encoding.ASCII.GetString(exact)))
            {
                exactHosts.Add(exact);
            }
        }

        int size = 2;
        while (size < exactHosts.Count * 2)
        {
            size *= 2;
        }

        var keys = new byte[]?[size];
        var candidates = new Route[size][];
        foreach (byte[] host in exactHosts)
        {
            var list = new List<Route>();
            foreach (Route route in routes)
            {
                if (route.Host.Matches(host))
                {
                    list.Add(route);
                }
            }

            int slot = (int)AsciiCaseFoldHash.Of(host) & (size - 1);
            while (keys[slot] is not null)
            {
                slot = (slot + 1) & (size - 1);
            }

            keys[slot] = host;
            candidates[slot] = list.ToArray();
        }

        return new HostRouteIndex(keys, candidates, otherHosts.ToArray());
    }

    /// <summary>The routes that may match <paramref name="host"/> (normalized: no port), in definition order.</summary>
    public Route[] CandidatesFor(ReadOnlySpan<byte> host)
    {
        byte[]?[] keys = _keys;
        int slot = (int)AsciiCaseFoldHash.Of(host) & _mask;
        while (true)
        {
            byte[]? key = keys[slot];
            if (key is null)
            {
                return _otherHosts;
            }

            if (key.Length == host.Length && Ascii.EqualsIgnoreCase(host, key))
            {
                return _candidates[slot];
            }

            slot = (slot + 1) & _mask;
        }
    }
}
