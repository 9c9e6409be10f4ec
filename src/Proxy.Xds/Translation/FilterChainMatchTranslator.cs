using System.Net;
using System.Net.Sockets;
using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A <c>filter_chain_match</c> (envoy.config.listener.v3) as the proxy's <see cref="FilterChainMatchConfig"/>: every
/// field Envoy matches on is taken; the unimplemented <c>address_suffix</c> and <c>suffix_len</c> (Envoy ignores
/// them too, so a server setting them means something no one does) and transport protocols other than
/// <c>raw_buffer</c> and <c>tls</c> are rejections naming the field.
/// </summary>
internal static class FilterChainMatchTranslator
{
    public static FilterChainMatchConfig Translate(FilterChainMatch? match, string where)
    {
        if (match is null)
        {
            return FilterChainMatchConfig.Any;
        }

        where += ".filter_chain_match";
        if (match.AddressSuffix.Length > 0 || match.SuffixLen is not null)
        {
            throw new XdsRejectedException($"{where}: address_suffix: not implemented (Envoy does not match on it either); leave it out");
        }

        if (match.DestinationPort is > 65535)
        {
            throw new XdsRejectedException($"{where}: destination_port: {match.DestinationPort} is not a port");
        }

        if (match.TransportProtocol is not ("" or "raw_buffer" or "tls"))
        {
            throw new XdsRejectedException($"{where}: transport_protocol: '{match.TransportProtocol}' is not detected by the proxy; use raw_buffer or tls");
        }

        for (var i = 0; i < match.ServerNames.Count; i++)
        {
            var name = match.ServerNames[i];
            var wildcard = name.StartsWith("*.", StringComparison.Ordinal);
            if (name.Length == 0 || name.IndexOf('*', wildcard ? 1 : 0) >= 0 || (wildcard && name.Length < 3))
            {
                throw new XdsRejectedException($"{where}: server_names[{i}]: '{name}' is not a server name; give an exact name or a wildcard of the form *.example.com");
            }
        }

        var ports = new int[match.SourcePorts.Count];
        for (var i = 0; i < ports.Length; i++)
        {
            var port = match.SourcePorts[i];
            ports[i] = port <= 65535 ? (int)port : throw new XdsRejectedException($"{where}: source_ports[{i}]: {port} is not a port");
        }

        return new FilterChainMatchConfig
        {
            DestinationPort = match.DestinationPort is { } destination ? (int)destination : null,
            PrefixRanges = Ranges(match.PrefixRanges, where, "prefix_ranges"),
            ServerNames = [.. match.ServerNames.Select(static n => n.ToLowerInvariant())],
            TransportProtocol = match.TransportProtocol.Length > 0 ? match.TransportProtocol : null,
            ApplicationProtocols = [.. match.ApplicationProtocols],
            DirectSourcePrefixRanges = Ranges(match.DirectSourcePrefixRanges, where, "direct_source_prefix_ranges"),
            SourceType = match.SourceType switch
            {
                FilterChainMatch.Types.ConnectionSourceType.SameIpOrLoopback => ConnectionSourceType.SameIpOrLoopback,
                FilterChainMatch.Types.ConnectionSourceType.External => ConnectionSourceType.External,
                _ => ConnectionSourceType.Any,
            },
            SourcePrefixRanges = Ranges(match.SourcePrefixRanges, where, "source_prefix_ranges"),
            SourcePorts = ports,
        };
    }

    /// <summary>CIDR ranges; like Envoy, the bits past the prefix length are cleared (10.1.2.3/8 is 10.0.0.0/8).</summary>
    private static IPNetwork[] Ranges(IList<CidrRange> ranges, string where, string field)
    {
        var networks = new IPNetwork[ranges.Count];
        for (var i = 0; i < networks.Length; i++)
        {
            var range = ranges[i];
            if (!IPAddress.TryParse(range.AddressPrefix, out var address))
            {
                throw new XdsRejectedException($"{where}: {field}[{i}]: '{range.AddressPrefix}' is not an IP address");
            }

            var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            var length = range.PrefixLen is { } len ? len : (uint)bits;
            if (length > bits)
            {
                throw new XdsRejectedException($"{where}: {field}[{i}]: prefix_len {length} is longer than the {bits} bits of {range.AddressPrefix}");
            }

            var bytes = address.GetAddressBytes();
            for (var b = 0; b < bytes.Length; b++)
            {
                var keep = (int)Math.Clamp(length - (b * 8), 0, 8);
                bytes[b] &= (byte)(0xFF << (8 - keep));
            }

            networks[i] = new IPNetwork(new IPAddress(bytes), (int)length);
        }

        return networks;
    }
}
