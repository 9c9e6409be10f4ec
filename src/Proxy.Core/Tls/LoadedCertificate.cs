using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tls;

/// <summary>One loaded version of a <see cref="CertificateSource"/>: the leaf with its key, the handshake context, its SPIFFE ID.</summary>
public sealed class LoadedCertificate(X509Certificate2 leaf, SslStreamCertificateContext context, SpiffeId? spiffeId, int version)
{
    /// <summary>The leaf certificate with its private key.</summary>
    public X509Certificate2 Leaf { get; } = leaf;

    /// <summary>Leaf plus intermediates, ready for SslStream (the runtime caches its native TLS context per instance).</summary>
    public SslStreamCertificateContext Context { get; } = context;

    /// <summary>The SPIFFE ID in the URI SAN, if any.</summary>
    public SpiffeId? SpiffeId { get; } = spiffeId;

    /// <summary>1 for the first load, one more per reload.</summary>
    public int Version { get; } = version;
}
