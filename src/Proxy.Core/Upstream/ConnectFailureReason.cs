using System.Net;
using System.Net.Sockets;

namespace Proxy.Upstream;

/// <summary>Words why a TCP connect to an endpoint failed, for the log: from the socket error, never the runtime's text.</summary>
public static class ConnectFailureReason
{
    /// <summary>The reason for <paramref name="ex"/>, raised connecting to <paramref name="address"/> within <paramref name="timeout"/>.</summary>
    public static string Describe(Exception ex, EndPoint address, TimeSpan timeout) => ex switch
    {
        TimeoutException => $"no connection within the connect timeout ({timeout.TotalMilliseconds:0} ms): the host does not answer, or drops the packets",
        SocketException socket => socket.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused: nothing listens on that port (or a firewall rejects the connection)",
            SocketError.HostNotFound or SocketError.NoData => $"DNS: the name {HostOf(address)} does not resolve",
            SocketError.TryAgain => $"DNS: the lookup of {HostOf(address)} failed for now (the resolver did not answer)",
            SocketError.TimedOut => "the connect timed out in the kernel: the host does not answer",
            SocketError.HostUnreachable or SocketError.HostDown => "no route to the host",
            SocketError.NetworkUnreachable or SocketError.NetworkDown => "the network is unreachable",
            SocketError.ConnectionReset or SocketError.ConnectionAborted => "the connection was reset while it was being made",
            SocketError.AddressNotAvailable or SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable =>
                $"no local port or file descriptor left (errno {socket.NativeErrorCode}); the proxy has too many connections open",
            _ => $"the connect failed (errno {socket.NativeErrorCode})",
        },
        _ => "the connect failed",
    };

    private static string HostOf(EndPoint address) => address is DnsEndPoint dns ? dns.Host : address.ToString() ?? "";
}
