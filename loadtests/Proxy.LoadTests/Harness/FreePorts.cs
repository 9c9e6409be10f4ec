using System.Net;
using System.Net.Sockets;

namespace Proxy.LoadTests.Harness;

/// <summary>Free loopback ports for the proxy's listeners (the kernel picks; the race window is tiny on a test box).</summary>
public static class FreePorts
{
    /// <summary>A port that was free a moment ago on 127.0.0.1.</summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
