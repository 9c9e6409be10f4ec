using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.Host.Demo;

/// <summary>
/// The demo's HTTP upstream: answers every request with a short text naming itself, keep-alive.
/// Only what the demo needs: requests without bodies or with Content-Length.
/// </summary>
public sealed class SampleHttpServer : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly string _name;
    private readonly Task _loop;

    public SampleHttpServer(string name)
    {
        _name = name;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(128);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint LocalEndPoint { get; }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var buffer = new byte[16 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                var end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    if (filled == buffer.Length)
                    {
                        return; // head too large for a demo
                    }

                    var read = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                    continue;
                }

                var head = Encoding.ASCII.GetString(buffer, 0, end);
                var consumed = end + 4 + ContentLength(head);
                if (consumed > filled)
                {
                    // Drain the body: read until the declared length has arrived.
                    var read = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                    continue;
                }

                var cr = head.IndexOf('\r');
                var requestLine = cr >= 0 ? head[..cr] : head;
                var body = $"hello from {_name}: {requestLine}\n";
                var response = $"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
                await client.SendAsync(Encoding.UTF8.GetBytes(response), SocketFlags.None).ConfigureAwait(false);
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;
            }
        }
        catch (SocketException)
        {
            // client went away
        }
    }

    private static int ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(line.AsSpan(15).Trim(), out var length))
            {
                return length;
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop.ConfigureAwait(false);
    }
}
