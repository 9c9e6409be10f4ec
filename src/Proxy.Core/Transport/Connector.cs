using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Proxy.Transport;

/// <summary>Opens upstream connections: TCP_NODELAY, the shared pipe options, and a connect timeout.</summary>
public static class Connector
{
    /// <summary>
    /// Connects to <paramref name="address"/>; throws <see cref="TimeoutException"/> when the timeout
    /// passes first and <see cref="SocketException"/> when the connect is refused or fails.
    /// </summary>
    public static async ValueTask<SocketConnection> ConnectAsync(EndPoint address, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var socket = address is DnsEndPoint
            ? new Socket(SocketType.Stream, ProtocolType.Tcp)
            : new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(address, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connect to {address} timed out after {timeout.TotalMilliseconds:0} ms");
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return SocketConnection.Create(socket, TransportOptions.Pipe, TransportOptions.Pipe, TransportOptions.Connection);
    }
}
