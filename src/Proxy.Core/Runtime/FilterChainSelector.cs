using System.Net;
using Proxy.Configuration;

namespace Proxy.Runtime;

/// <summary>
/// Chooses a listener's filter chain for one connection by Envoy's rules (listener_components "Filter chain match"):
/// the criteria are looked at in a fixed order (destination port, destination address, server name, transport
/// protocol, application protocols, direct source address, source type, source address, source port); at each step
/// only the chains that match most specifically stay (a chain that leaves the criterion empty matches only when no
/// chain names a matching value), and there is no going back: when no chain is left, the default chain serves, or
/// none and the connection is closed.
/// </summary>
public sealed class FilterChainSelector
{
    private readonly FilterChainMatchConfig[] _matches;
    private readonly ListenerRuntime[] _chains;

    public FilterChainSelector(IReadOnlyList<FilterChainMatchConfig> matches, IReadOnlyList<ListenerRuntime> chains, ListenerRuntime? fallback)
    {
        _matches = [.. matches];
        _chains = [.. chains];
        Default = fallback;
    }

    /// <summary>The chain of connections no chain matches (Envoy's <c>default_filter_chain</c>); null closes them.</summary>
    public ListenerRuntime? Default { get; }

    public IReadOnlyList<ListenerRuntime> Chains => _chains;

    /// <summary>The same matches choosing among <paramref name="chains"/> (the same chains, compiled against other clusters).</summary>
    internal FilterChainSelector WithChains(IReadOnlyList<ListenerRuntime> chains, ListenerRuntime? fallback) => new(_matches, chains, fallback);

    /// <summary>
    /// Whether the choice for a connection to <paramref name="destination"/> from <paramref name="source"/> depends on
    /// its first bytes: only then is anything read before the chain starts, so a server-first protocol is not held up
    /// when the address alone decides.
    /// </summary>
    public bool NeedsInspection(IPEndPoint destination, IPEndPoint source)
    {
        Span<int> alive = stackalloc int[_matches.Length];
        var facts = new ConnectionFacts(destination, source);
        var count = Narrow(alive, facts, lastStep: 1);
        for (var i = 0; i < count; i++)
        {
            if (_matches[alive[i]].NeedsInspection)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The chain for <paramref name="facts"/>, the default chain, or null (close the connection).</summary>
    public ListenerRuntime? Select(in ConnectionFacts facts)
    {
        Span<int> alive = stackalloc int[_matches.Length];
        var count = Narrow(alive, facts, lastStep: Steps - 1);
        return count > 0 ? _chains[alive[0]] : Default;
    }

    private const int Steps = 9;

    /// <summary>Keeps in <paramref name="alive"/> the chains that win steps 0 to <paramref name="lastStep"/>; returns their number.</summary>
    private int Narrow(Span<int> alive, in ConnectionFacts facts, int lastStep)
    {
        var count = _matches.Length;
        for (var i = 0; i < count; i++)
        {
            alive[i] = i;
        }

        for (var step = 0; step <= lastStep && count > 0; step++)
        {
            var best = -1;
            for (var i = 0; i < count; i++)
            {
                best = Math.Max(best, Score(step, _matches[alive[i]], facts));
            }

            if (best < 0)
            {
                return 0;
            }

            var kept = 0;
            for (var i = 0; i < count; i++)
            {
                if (Score(step, _matches[alive[i]], facts) == best)
                {
                    alive[kept++] = alive[i];
                }
            }

            count = kept;
        }

        return count;
    }

    /// <summary>How specifically <paramref name="match"/> meets one criterion: -1 not at all, 0 by leaving it empty, more the more specific.</summary>
    private static int Score(int step, FilterChainMatchConfig match, in ConnectionFacts facts) => step switch
    {
        0 => match.DestinationPort is not { } port ? 0 : port == facts.Destination.Port ? 1 : -1,
        1 => Prefix(match.PrefixRanges, facts.Destination.Address),
        2 => ServerName(match.ServerNames, facts.ServerName),
        3 => match.TransportProtocol is not { } transport ? 0 : transport == (facts.TransportProtocol ?? "raw_buffer") ? 1 : -1,
        4 => Alpn(match.ApplicationProtocols, facts.ApplicationProtocols),
        5 => Prefix(match.DirectSourcePrefixRanges, facts.Source.Address),
        6 => match.SourceType switch
        {
            ConnectionSourceType.Any => 0,
            ConnectionSourceType.SameIpOrLoopback => IsLocal(facts) ? 1 : -1,
            _ => IsLocal(facts) ? -1 : 1,
        },
        7 => Prefix(match.SourcePrefixRanges, facts.Source.Address),
        _ => match.SourcePorts.Count == 0 ? 0 : Contains(match.SourcePorts, facts.Source.Port) ? 1 : -1,
    };

    /// <summary>The longest prefix that holds the address, plus one (so a /0 range beats an empty list); -1 when none does.</summary>
    private static int Prefix(IReadOnlyList<IPNetwork> ranges, IPAddress address)
    {
        if (ranges.Count == 0)
        {
            return 0;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var best = -1;
        foreach (var range in ranges)
        {
            if (range.BaseAddress.AddressFamily == address.AddressFamily && range.Contains(address))
            {
                best = Math.Max(best, range.PrefixLength + 1);
            }
        }

        return best;
    }

    /// <summary>An exact name beats any wildcard; <c>*.example.com</c> beats <c>*.com</c>. A connection without SNI matches only an empty list.</summary>
    private static int ServerName(IReadOnlyList<string> names, string? sni)
    {
        if (names.Count == 0)
        {
            return 0;
        }

        if (sni is null)
        {
            return -1;
        }

        var best = -1;
        foreach (var name in names)
        {
            if (string.Equals(name, sni, StringComparison.OrdinalIgnoreCase))
            {
                return int.MaxValue;
            }

            // "*.example.com" holds any name that ends in ".example.com", with one label or more before it.
            if (name.StartsWith("*.", StringComparison.Ordinal) && sni.Length > name.Length - 1
                && sni.EndsWith(name.AsSpan(1), StringComparison.OrdinalIgnoreCase))
            {
                best = Math.Max(best, name.Length);
            }
        }

        return best;
    }

    private static int Alpn(IReadOnlyList<string> wanted, IReadOnlyList<string> offered)
    {
        if (wanted.Count == 0)
        {
            return 0;
        }

        foreach (var protocol in wanted)
        {
            foreach (var candidate in offered)
            {
                if (protocol == candidate)
                {
                    return 1;
                }
            }
        }

        return -1;
    }

    private static bool IsLocal(in ConnectionFacts facts) =>
        IPAddress.IsLoopback(facts.Source.Address) || facts.Source.Address.Equals(facts.Destination.Address);

    private static bool Contains(IReadOnlyList<int> ports, int port)
    {
        foreach (var p in ports)
        {
            if (p == port)
            {
                return true;
            }
        }

        return false;
    }
}
