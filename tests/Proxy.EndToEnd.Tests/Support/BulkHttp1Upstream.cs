using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// An HTTP/1.1 upstream on a raw socket that answers every request with a large Content-Length body of
/// <c>bodyBytes</c>, written as fast as the proxy takes it, and counts what it managed to write. The response
/// connections stay open until disposal, so a body the proxy stops reading stays pending.
/// </summary>
internal sealed class BulkHttp1Upstream : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private readonly byte[] _chunk = new byte[64 * 1024];
    private readonly int _bodyBytes;
    private long _written;
    private long _lastProgress = Environment.TickCount64;
    private int _responsesStarted;

    public BulkHttp1Upstream(int bodyBytes)
    {
        _bodyBytes = bodyBytes;
        Array.Fill(_chunk, (byte)'x');
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        _ = AcceptAsync();
    }

    public EndPoint Address => _listener.LocalEndPoint!;

    /// <summary>Response heads written so far.</summary>
    public int ResponsesStarted => Volatile.Read(ref _responsesStarted);

    /// <summary>Body bytes the sockets accepted so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Milliseconds since a send last made progress (or a response started).</summary>
    public long QuietMilliseconds => Environment.TickCount64 - Interlocked.Read(ref _lastProgress);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                Socket socket = await _listener.AcceptAsync(_stop.Token);
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }

                _ = ServeAsync(socket);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // disposed
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        try
        {
            var head = new byte[8192];
            int length = 0;
            while (Encoding.ASCII.GetString(head, 0, length).IndexOf("\r\n\r\n", StringComparison.Ordinal) < 0)
            {
                int read = await socket.ReceiveAsync(head.AsMemory(length), _stop.Token);
                if (read == 0)
                {
                    return;
                }

                length += read;
            }

            await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-length: {_bodyBytes}\r\ncontent-type: application/octet-stream\r\n\r\n"), _stop.Token);
            Interlocked.Increment(ref _responsesStarted);
            Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
            for (int left = _bodyBytes; left > 0;)
            {
                int sent = await socket.SendAsync(_chunk.AsMemory(0, Math.Min(left, _chunk.Length)), _stop.Token);
                left -= sent;
                Interlocked.Add(ref _written, sent);
                Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the proxy closed the connection, or the test ended
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_accepted)
        {
            foreach (Socket socket in _accepted)
            {
                socket.Dispose();
            }
        }

        _stop.Dispose();
    }
}
