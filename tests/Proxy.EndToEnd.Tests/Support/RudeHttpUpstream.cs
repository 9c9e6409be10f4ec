using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// An upstream that answers one request per connection and then closes, without announcing it
/// (no "Connection: close"): a pooled connection to it is always stale by the next request. With
/// <c>reset</c> it closes with RST (SO_LINGER 0), as a crashed process's kernel does.
/// </summary>
public sealed class RudeHttpUpstream : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Task _loop;

    public RudeHttpUpstream(bool reset = false)
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(64);
        Address = _socket.LocalEndPoint!.ToString()!;
        _loop = Task.Run(async () =>
        {
            while (true)
            {
                Socket client;
                try
                {
                    client = await _socket.AcceptAsync();
                }
                catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var buffer = new byte[8192];
                        var received = new StringBuilder();
                        while (!received.ToString().Contains("\r\n\r\n"))
                        {
                            var read = await client.ReceiveAsync(buffer, SocketFlags.None);
                            if (read == 0)
                            {
                                return;
                            }

                            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
                        }

                        await client.SendAsync("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"u8.ToArray(), SocketFlags.None);
                        await Task.Delay(50);
                        if (reset)
                        {
                            client.LingerState = new LingerOption(true, 0);
                        }
                    }
                });
            }
        });
    }

    public string Address { get; }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop;
    }
}
