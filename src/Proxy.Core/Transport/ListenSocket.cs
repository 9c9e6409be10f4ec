using System.Net;
using System.Net.Sockets;

namespace Proxy.Transport;

/// <summary>
/// Opens a listening socket that owns its address alone. .NET's <see cref="SocketOptionName.ReuseAddress"/> sets
/// SO_REUSEPORT as well as SO_REUSEADDR on Linux and macOS, and with SO_REUSEPORT a second process (another copy of
/// the proxy, an nginx) binds the same port beside us and the kernel splits the connections between the two. Only
/// SO_REUSEADDR is set here, with the native option numbers: it lets a restarted proxy bind a port that still has
/// TIME_WAIT connections of the previous run, and never lets two listening sockets share one.
/// </summary>
public static class ListenSocket
{
    /// <summary>Binds <paramref name="address"/> and listens; throws <see cref="SocketException"/> when the address is unusable.</summary>
    public static Socket Open(EndPoint address, int backlog)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            AllowRebindOverTimeWait(socket);
            if (address is IPEndPoint { Address: var ip } && ip.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(address);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void AllowRebindOverTimeWait(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(1, 2, BitConverter.GetBytes(1)); // SOL_SOCKET, SO_REUSEADDR
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(0xffff, 0x0004, BitConverter.GetBytes(1)); // SOL_SOCKET, SO_REUSEADDR
        }

        // Windows: a listening socket can bind over TIME_WAIT without options, and its SO_REUSEADDR would let others
        // take the port from us.
    }
}
