using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A cluster's transport sockets in the proxy's terms: the one TLS configuration it originates (null when every
/// socket is plain text), whether its default socket is TLS, and its <c>transport_socket_matches</c>, which choose per
/// endpoint between that TLS and plain text by the endpoint's <c>envoy.transport_socket_match</c> metadata.
/// </summary>
public sealed record ClusterTransportSockets(
    TlsClientConfig? Tls,
    bool DefaultTls,
    IReadOnlyList<(Struct Match, bool Tls)> Matches,
    Struct? ClusterMetadata,
    IReadOnlyList<SecretReference> Secrets,
    IReadOnlyList<InlineSecret> Inline)
{
    /// <summary>The metadata filter that transport_socket_matches look at (Envoy's well-known name).</summary>
    public const string MetadataFilter = "envoy.transport_socket_match";

    /// <summary>
    /// Whether an endpoint with <paramref name="endpointMetadata"/> (its <see cref="MetadataFilter"/> struct, or its
    /// locality's, else null) gets TLS: the first match whose every field the metadata holds with the same value
    /// decides (an empty match takes anything), the cluster's own metadata standing in for an endpoint's that is
    /// absent; no match, the default socket.
    /// </summary>
    public bool TlsFor(Struct? endpointMetadata)
    {
        var metadata = endpointMetadata ?? ClusterMetadata;
        foreach (var (match, tls) in Matches)
        {
            if (Holds(metadata, match))
            {
                return tls;
            }
        }

        return DefaultTls;
    }

    /// <summary>The endpoints with <see cref="EndpointConfig.PlainText"/> set where the chosen socket is plain text.</summary>
    public IReadOnlyList<EndpointConfig> Select(IReadOnlyList<EndpointConfig> endpoints, IReadOnlyList<Struct?> metadata)
    {
        if (Tls is null || (Matches.Count == 0 && DefaultTls))
        {
            return endpoints; // one kind of socket for all
        }

        var selected = new EndpointConfig[endpoints.Count];
        for (var i = 0; i < selected.Length; i++)
        {
            var plain = !TlsFor(i < metadata.Count ? metadata[i] : null);
            selected[i] = endpoints[i].PlainText == plain ? endpoints[i] : endpoints[i] with { PlainText = plain };
        }

        return new ConfigList<EndpointConfig>(selected);
    }

    private static bool Holds(Struct? metadata, Struct match)
    {
        foreach (var (key, value) in match.Fields)
        {
            if (metadata is null || !metadata.Fields.TryGetValue(key, out var actual) || !actual.Equals(value))
            {
                return false;
            }
        }

        return true;
    }
}
