using System.Net;
using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Http2;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// An upstream that takes a request and never answers it, reporting how the proxy ended it: the RST_STREAM code
/// (HTTP/2), or "closed" when the proxy closed the connection (HTTP/1.1).
/// </summary>
internal sealed class UnansweredUpstream : IAsyncDisposable
{
    private readonly IAsyncDisposable _server;

    private UnansweredUpstream(IAsyncDisposable server, string address) => (_server, Address) = (server, address);

    public string Address { get; }

    public static UnansweredUpstream Http2(TaskCompletionSource seen, TaskCompletionSource<string> cancelled)
    {
        var server = RawHttp2Upstream.Start(async exchange =>
        {
            seen.TrySetResult();
            cancelled.TrySetResult((await exchange.Reset).ToString());
        });
        return new UnansweredUpstream(server, server.Address);
    }

    public static UnansweredUpstream Http1(TaskCompletionSource seen, TaskCompletionSource<string> cancelled)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(8);
        _ = ServeAsync(listener, seen, cancelled);
        return new UnansweredUpstream(new DisposableSocket(listener), listener.LocalEndPoint!.ToString()!);
    }

    // Reads the request head, then waits for the proxy to close the connection without answering.
    private static async Task ServeAsync(Socket listener, TaskCompletionSource seen, TaskCompletionSource<string> cancelled)
    {
        try
        {
            using var connection = await listener.AcceptAsync();
            var buffer = new byte[16 * 1024];
            var length = 0;
            while (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
            {
                int read = await connection.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None);
                if (read == 0)
                {
                    return;
                }

                length += read;
            }

            seen.TrySetResult();
            while (await connection.ReceiveAsync(buffer, SocketFlags.None) > 0)
            {
            }

            cancelled.TrySetResult("closed");
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            cancelled.TrySetResult("closed");
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private sealed class DisposableSocket(Socket socket) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
