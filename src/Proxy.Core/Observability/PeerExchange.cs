using Proxy.Headers;
using Proxy.Tls;

namespace Proxy.Observability;

/// <summary>
/// How a sidecar's routes learn who is on the other side of each request, for the metrics: a server sidecar reads the
/// client's <see cref="PeerMetadata.HeaderName"/> from the request (<see cref="FromRequest"/>) with the principal the
/// connection's client certificate proved; a client sidecar reads the server's from the response, with the identity
/// it required of the server (<paramref name="expectedPrincipal"/>).
/// </summary>
public sealed class PeerExchange(PeerMetadataCache cache, bool fromRequest, string? expectedPrincipal = null)
{
    private static readonly byte[] Header = System.Text.Encoding.ASCII.GetBytes(PeerMetadata.HeaderName);

    /// <summary>True when the peer is read from requests (server side), false for responses (client side).</summary>
    public bool FromRequest { get; } = fromRequest;

    /// <summary>The interned labels of the peer that sent <paramref name="message"/>; allocation-free once seen.</summary>
    public PeerLabels Resolve<TMessage>(scoped ref TMessage message, PeerIdentity? connectionPeer)
        where TMessage : IFieldLookup, allows ref struct
    {
        message.TryGetValue(Header, out var metadata);
        if (FromRequest)
        {
            return cache.Resolve(metadata, connectionPeer?.Principal ?? WorkloadLabels.UnknownValue, connectionPeer?.SecurityPolicy ?? WorkloadLabels.UnknownValue);
        }

        // At the caller Istio reports connection_security_policy "unknown": the policy is the destination's to tell.
        return cache.Resolve(metadata, expectedPrincipal ?? WorkloadLabels.UnknownValue, WorkloadLabels.UnknownValue);
    }
}
