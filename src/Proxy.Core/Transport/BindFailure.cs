using System.Net.Sockets;

namespace Proxy.Transport;

/// <summary>
/// The one place that words a failed bind (listeners, the mesh sidecar's ports, the admin server): which address of
/// which owner, why, and what to do. The socket's own message says none of that (and the published binary shows
/// resource keys for the runtime's messages).
/// </summary>
public static class BindFailure
{
    /// <summary>
    /// The sentence for <paramref name="ex"/>, raised while <paramref name="owner"/> ("listener web", "the admin
    /// server") resolved or bound <paramref name="address"/> (as configured, <c>host:port</c>).
    /// </summary>
    public static string Describe(string owner, string address, SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse =>
            $"{owner} cannot listen on {address}: another process (or another listener of this proxy) already uses that address; stop it or choose another port",
        SocketError.AccessDenied =>
            $"{owner} cannot listen on {address}: permission denied; ports below 1024 need root or the CAP_NET_BIND_SERVICE capability, so choose a port from 1024 up or grant the capability",
        SocketError.AddressNotAvailable =>
            $"{owner} cannot listen on {address}: that IP address belongs to no interface of this host; use one of its addresses, or 0.0.0.0 for all of them",
        SocketError.AddressFamilyNotSupported or SocketError.ProtocolFamilyNotSupported =>
            $"{owner} cannot listen on {address}: this host does not support that address family (IPv6 switched off?); use an IPv4 address",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain =>
            $"{owner} cannot listen on {address}: its host name does not resolve to an address; use an IP address, or a name the resolver knows",
        _ =>
            $"{owner} cannot listen on {address}: the system refused the bind (errno {ex.NativeErrorCode}); check the address",
    };
}
