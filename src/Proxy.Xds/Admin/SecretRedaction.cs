using Envoy.Config.Core.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Google.Protobuf.WellKnownTypes;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds.Admin;

/// <summary>
/// Private keys carried inline are never written to /config_dump: they are replaced with <c>[redacted]</c>, as Envoy
/// does for its sensitive fields. File names and certificates (public) stay.
/// </summary>
public static class SecretRedaction
{
    private const string Redacted = "[redacted]";

    /// <summary>The cluster as sent, or a copy whose TLS contexts' inline private keys read <c>[redacted]</c>.</summary>
    public static XdsCluster Redact(XdsCluster cluster)
    {
        if (cluster.TransportSocket is null && cluster.TransportSocketMatches.Count == 0)
        {
            return cluster;
        }

        var copy = cluster.Clone();
        Redact(copy.TransportSocket);
        foreach (var match in copy.TransportSocketMatches)
        {
            Redact(match.TransportSocket);
        }

        return copy;
    }

    /// <summary>A copy of the secret with an inline private key redacted.</summary>
    public static Secret Redact(Secret secret)
    {
        var copy = secret.Clone();
        if (copy.TlsCertificate is { } certificate)
        {
            Redact(certificate);
        }

        return copy;
    }

    private static void Redact(TransportSocket? socket)
    {
        if (socket?.TypedConfig is not { TypeUrl: XdsTypeUrls.UpstreamTlsContext } any)
        {
            return;
        }

        var context = UpstreamTlsContext.Parser.ParseFrom(any.Value);
        foreach (var certificate in context.CommonTlsContext?.TlsCertificates ?? [])
        {
            Redact(certificate);
        }

        socket.TypedConfig = Any.Pack(context);
    }

    private static void Redact(TlsCertificate certificate)
    {
        if (certificate.PrivateKey is { SpecifierCase: DataSource.SpecifierOneofCase.InlineBytes or DataSource.SpecifierOneofCase.InlineString })
        {
            certificate.PrivateKey = new DataSource { InlineString = Redacted };
        }
    }
}
