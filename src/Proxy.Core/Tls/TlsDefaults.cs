using System.Net.Security;
using System.Security.Authentication;

namespace Proxy.Tls;

/// <summary>Protocol versions and ALPN ids shared by the TLS policies.</summary>
public static class TlsDefaults
{
    /// <summary>Edge listeners and clusters: TLS 1.3, with 1.2 for clients that lack it.</summary>
    public const SslProtocols Edge = SslProtocols.Tls13 | SslProtocols.Tls12;

    /// <summary>Mesh traffic: both sides are this proxy, so TLS 1.3 only.</summary>
    public const SslProtocols Mesh = SslProtocols.Tls13;

    /// <summary>Longest a TLS handshake may take before the connection is dropped.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>ALPN protocol list from names (<c>h2</c>, <c>http/1.1</c>, anything else as bytes).</summary>
    public static List<SslApplicationProtocol> Alpn(IReadOnlyList<string> names)
    {
        var list = new List<SslApplicationProtocol>(names.Count);
        foreach (var name in names)
        {
            list.Add(name switch
            {
                "h2" => SslApplicationProtocol.Http2,
                "http/1.1" => SslApplicationProtocol.Http11,
                _ => new SslApplicationProtocol(name),
            });
        }

        return list;
    }
}
