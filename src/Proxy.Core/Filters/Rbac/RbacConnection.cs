using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Filters.Rbac;

/// <summary>
/// What RBAC reads of a downstream connection, gathered once when it is accepted (after its TLS handshake): the
/// client's address, the address it was going to (its original destination behind an iptables redirect), the server
/// name it asked for, and the names its verified certificate proves. Every request of the connection reads it.
/// </summary>
public sealed class RbacConnection
{
    private static readonly byte[][] NoNames = [];

    public RbacConnection(IPAddress? remote, IPEndPoint? destination, string? serverName, X509Certificate2? peerCertificate)
    {
        Remote = Unmapped(remote);
        DestinationAddress = Unmapped(destination?.Address);
        DestinationPort = destination?.Port ?? -1;
        ServerName = System.Text.Encoding.UTF8.GetBytes(serverName ?? "");
        Authenticated = peerCertificate is not null;
        PrincipalNames = peerCertificate is not null ? CertificatePrincipals.Of(peerCertificate) : NoNames;
    }

    /// <summary>The client's address (IPv4-mapped IPv6 as IPv4); null when unknown.</summary>
    public IPAddress? Remote { get; }

    /// <summary>The connection's destination address; null when unknown.</summary>
    public IPAddress? DestinationAddress { get; }

    /// <summary>The connection's destination port; -1 when unknown.</summary>
    public int DestinationPort { get; }

    /// <summary>The SNI the client sent to a TLS chain the proxy terminates (UTF-8); empty when none.</summary>
    public byte[] ServerName { get; }

    /// <summary>True when the client presented a certificate the chain verified.</summary>
    public bool Authenticated { get; }

    /// <summary>
    /// The names an <c>authenticated.principal_name</c> is compared with, in Envoy's order: the certificate's URI
    /// SANs, its DNS SANs, then its subject (UTF-8); empty without a certificate.
    /// </summary>
    public byte[][] PrincipalNames { get; }

    private static IPAddress? Unmapped(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
