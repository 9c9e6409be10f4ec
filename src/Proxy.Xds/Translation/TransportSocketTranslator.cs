using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds.Translation;

/// <summary>
/// A cluster's <c>transport_socket</c> and <c>transport_socket_matches</c> as <see cref="ClusterTransportSockets"/>.
/// The runtime gives a cluster one TLS policy and lets each endpoint take it or go plain text, which is what Istio
/// sends (<c>tlsMode-istio</c> with TLS, <c>tlsMode-disabled</c> raw); two different TLS contexts in one cluster are
/// rejected.
/// </summary>
public static class TransportSocketTranslator
{
    /// <summary>Null when the cluster has neither field (plain text to every endpoint).</summary>
    public static ClusterTransportSockets? Translate(XdsCluster cluster, string name, XdsTranslationContext context)
    {
        if (cluster.TransportSocket is null && cluster.TransportSocketMatches.Count == 0)
        {
            return null;
        }

        TlsClientConfig? tls = null;
        var secrets = new List<SecretReference>();
        var inline = new List<InlineSecret>();
        bool Take(Envoy.Config.Core.V3.TransportSocket socket, string field)
        {
            var (translated, wanted, carried) = UpstreamTlsTranslator.Translate(socket, name, field, context);
            if (translated is null)
            {
                return false;
            }

            if (tls is not null && tls != translated)
            {
                throw ClusterTranslator.Reject(name, field, "a second, different TLS context: the proxy gives a cluster one TLS context that each endpoint takes or not; make the TLS sockets of transport_socket and transport_socket_matches the same");
            }

            tls = translated;
            secrets.AddRange(wanted.Where(w => !secrets.Contains(w)));
            inline.AddRange(carried.Where(c => !inline.Contains(c)));
            return true;
        }

        var defaultTls = cluster.TransportSocket is { } socket && Take(socket, "transport_socket");
        var matches = new List<(Struct, bool)>(cluster.TransportSocketMatches.Count);
        for (var i = 0; i < cluster.TransportSocketMatches.Count; i++)
        {
            var match = cluster.TransportSocketMatches[i];
            var field = $"transport_socket_matches[{i}]";
            if (match.TransportSocket is null)
            {
                throw ClusterTranslator.Reject(name, field + ".transport_socket", $"match '{match.Name}' has no transport_socket");
            }

            matches.Add((match.Match ?? new Struct(), Take(match.TransportSocket, field + ".transport_socket")));
        }

        Struct? clusterMetadata = null;
        cluster.Metadata?.FilterMetadata.TryGetValue(ClusterTransportSockets.MetadataFilter, out clusterMetadata);
        return new ClusterTransportSockets(tls, defaultTls, matches, clusterMetadata, secrets, inline);
    }
}
