using System.Net;
using System.Net.Sockets;
using Proxy.Upstream;

namespace Proxy.Transport;

/// <summary>Opens upstream connections: TCP_NODELAY, the shared pipe options, and a connect timeout.</summary>
public static class Connector
{
    /// <summary>
    /// Connects to <paramref name="address"/>; throws <see cref="TimeoutException"/> when the timeout
    /// passes first and <see cref="SocketException"/> when the connect is refused or fails.
    /// </summary>
    public static ValueTask<SocketPipe> ConnectAsync(EndPoint address, TimeSpan timeout, CancellationToken cancellation = default) =>
        ConnectAsync(address, null, timeout, cancellation);

    /// <summary>
    /// Connects to <paramref name="endpoint"/> as the other overload does, and logs a failure with its reason (refused,
    /// timeout, DNS) through the endpoint's cluster log, rate-limited; a successful connect does no more.
    /// </summary>
    public static ValueTask<SocketPipe> ConnectAsync(Endpoint endpoint, TimeSpan timeout, CancellationToken cancellation = default) =>
        ConnectAsync(endpoint.Address, endpoint, timeout, cancellation);

    private static async ValueTask<SocketPipe> ConnectAsync(EndPoint address, Endpoint? endpoint, TimeSpan timeout, CancellationToken cancellation)
    {
        var socket = address is DnsEndPoint
            ? new Socket(SocketType.Stream, ProtocolType.Tcp)
            : new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            if (endpoint?.SourceAddress is { } source)
            {
                // Bound before connecting, port chosen by the kernel; a dual-mode socket (a DNS name) takes the IPv4 form mapped.
                socket.Bind(new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 && source.AddressFamily == AddressFamily.InterNetwork ? source.MapToIPv6() : source, 0));
            }

            await socket.ConnectAsync(address, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            socket.Dispose();
            var timedOut = new TimeoutException($"connect to {address} timed out after {timeout.TotalMilliseconds:0} ms");
            LogFailure(endpoint, timedOut, timeout);
            throw timedOut;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            LogFailure(endpoint, ex, timeout);
            throw;
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return SocketPipe.Create(socket, TransportOptions.Pipe, TransportOptions.UpstreamReceivePipe);
    }

    private static void LogFailure(Endpoint? endpoint, Exception ex, TimeSpan timeout)
    {
        if (endpoint is not null && endpoint.Events.ShouldLogFailure(endpoint, out var suppressed))
        {
            endpoint.Events.ConnectFailed(endpoint, "connect", ConnectFailureReason.Describe(ex, endpoint.Address, timeout), suppressed);
        }
    }
}
