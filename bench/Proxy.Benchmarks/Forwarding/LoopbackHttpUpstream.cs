using System.Net;
using System.Net.Sockets;

namespace Proxy.Benchmarks.Forwarding;

/// <summary>
/// A minimal keep-alive HTTP/1.1 upstream for allocation measurements: answers every request head
/// with the same preformatted 200, from preallocated buffers, so it allocates nothing itself.
/// </summary>
public sealed class LoopbackHttpUpstream : IDisposable
{
    public static readonly byte[] Response = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"u8.ToArray();

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public LoopbackHttpUpstream()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            client.NoDelay = true;
            _ = ServeAsync(client);
        }
    }

    private static async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var buffer = new byte[16 * 1024];
        var pending = 0;
        try
        {
            while (true)
            {
                var read = await client.ReceiveAsync(buffer.AsMemory(pending), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                pending += read;
                var consumed = 0;
                int end;
                while ((end = buffer.AsSpan(consumed, pending - consumed).IndexOf("\r\n\r\n"u8)) >= 0)
                {
                    consumed += end + 4;
                    await client.SendAsync(Response.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                }

                buffer.AsSpan(consumed, pending - consumed).CopyTo(buffer);
                pending -= consumed;
            }
        }
        catch (SocketException)
        {
        }
    }

    public void Dispose() => _listener.Dispose();
}
