using System.Net;
using System.Net.Sockets;
using Proxy.Transport;

namespace Proxy.Tests.Transport;

/// <summary>A real loopback TCP connection: our side as a <see cref="SocketPipe"/>, the peer as a plain socket.</summary>
internal sealed class LoopbackPair : IDisposable
{
    private LoopbackPair(SocketPipe connection, Socket peer)
    {
        Connection = connection;
        Peer = peer;
    }

    public SocketPipe Connection { get; }

    public Socket Peer { get; }

    public static async Task<LoopbackPair> OpenAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var accept = listener.AcceptAsync();
        var connection = await Connector.ConnectAsync(listener.LocalEndPoint!, TimeSpan.FromSeconds(10));
        return new LoopbackPair(connection, await accept);
    }

    /// <summary>Reads from the peer until it sees the end of the stream; returns the bytes read.</summary>
    public async Task<int> ReadPeerToEndAsync()
    {
        var buffer = new byte[64 * 1024];
        var total = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var read = await Peer.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            if (read == 0)
            {
                return total;
            }

            total += read;
        }
    }

    /// <summary>Waits (bounded, not timed) until our socket's descriptor has been released.</summary>
    public async Task<bool> WaitForSocketClosedAsync()
    {
        for (var i = 0; i < 600 && !Connection.Socket.SafeHandle.IsClosed; i++)
        {
            await Task.Delay(50);
        }

        return Connection.Socket.SafeHandle.IsClosed;
    }

    public void Dispose()
    {
        Peer.Dispose();
        Connection.Dispose();
    }
}
