using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Proxy.Interception;

/// <summary>
/// The address a redirected connection was really sent to, before iptables REDIRECT rewrote it:
/// SO_ORIGINAL_DST (IPv4: level SOL_IP=0, optname 80) or IP6T_SO_ORIGINAL_DST (IPv6: level
/// SOL_IPV6=41, optname 80), read with <see cref="Socket.GetRawSocketOption"/> (no P/Invoke
/// marshalling, so AOT-safe) and parsed from the kernel's sockaddr bytes.
/// </summary>
public static class OriginalDestination
{
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int SoOriginalDst = 80;

    /// <summary>
    /// The original destination, or null when the socket was not redirected (no conntrack entry) or
    /// the platform has no such option. IPv4 connections on a dual-stack socket use the IPv4
    /// option, as linkerd's orig_dst notes.
    /// </summary>
    public static IPEndPoint? TryGet(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var local = socket.LocalEndPoint as IPEndPoint;
        var ipv4 = local is null || local.AddressFamily == AddressFamily.InterNetwork || local.Address.IsIPv4MappedToIPv6;
        Span<byte> buffer = stackalloc byte[28];
        try
        {
            var length = socket.GetRawSocketOption(ipv4 ? SolIp : SolIpv6, SoOriginalDst, buffer);
            return Parse(buffer[..length]);
        }
        catch (SocketException)
        {
            return null; // ENOENT: not redirected
        }
    }

    /// <summary>
    /// Parses a sockaddr_in (family, port, 4-byte address) or sockaddr_in6 (family, port, flow
    /// info, 16-byte address, scope id). Family is in host order, the port in network order.
    /// </summary>
    public static IPEndPoint? Parse(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 8)
        {
            return null;
        }

        var family = BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(sockaddr) : BinaryPrimitives.ReadUInt16BigEndian(sockaddr);
        var port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
        return family switch
        {
            2 => new IPEndPoint(new IPAddress(sockaddr.Slice(4, 4)), port), // AF_INET
            10 when sockaddr.Length >= 28 => new IPEndPoint(new IPAddress(sockaddr.Slice(8, 16), BinaryPrimitives.ReadUInt32LittleEndian(sockaddr[24..])), port), // AF_INET6
            _ => null,
        };
    }
}
