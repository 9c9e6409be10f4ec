using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// A scripted HTTP/1.1 upstream on a raw socket, for the answers Kestrel will not give: interim responses written
/// byte for byte, 101 to a request that asked for no upgrade, a failure on the first try only. Each request head is
/// handed to <c>handler</c>, which writes the answer itself; the connection then serves its next request (keep-alive)
/// unless the handler closed it.
/// </summary>
internal sealed class ScriptedHttp1Upstream : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Func<Exchange, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Socket> _accepted = [];
    private int _connections;
    private int _requests;

    private ScriptedHttp1Upstream(Func<Exchange, Task> handler)
    {
        _handler = handler;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Address = _listener.LocalEndPoint!.ToString()!;
        _ = AcceptLoopAsync();
    }

    public string Address { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Every request head received, in arrival order.</summary>
    public ConcurrentQueue<Exchange> Received { get; } = new();

    public static ScriptedHttp1Upstream Start(Func<Exchange, Task> handler) => new(handler);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _accepted.Add(socket);
            Interlocked.Increment(ref _connections);
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var pending = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int end;
                while ((end = pending.GetBuffer().AsSpan(0, (int)pending.Length).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    int read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    pending.Write(buffer, 0, read);
                }

                string head = Encoding.ASCII.GetString(pending.GetBuffer(), 0, end + 4);
                byte[] rest = pending.GetBuffer().AsSpan(end + 4, (int)pending.Length - end - 4).ToArray();
                pending.SetLength(0);
                var exchange = new Exchange(socket, head, Interlocked.Increment(ref _requests), rest);
                Received.Enqueue(exchange);
                await _handler(exchange);
                if (exchange.Closed)
                {
                    return;
                }

                pending.Write(exchange.Leftover);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the proxy closed the connection, or the test ended
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        foreach (var socket in _accepted)
        {
            socket.Dispose();
        }

        await Task.Yield();
    }

    /// <summary>One request: its head as received, its body on demand, and the means to answer.</summary>
    internal sealed class Exchange(Socket socket, string head, int index, byte[] leftover)
    {
        /// <summary>The request head, request line to the empty line.</summary>
        public string Head { get; } = head;

        /// <summary>1 for the first request this upstream received, then 2, and so on.</summary>
        public int Index { get; } = index;

        /// <summary>Bytes received after what the handler read: the start of the next request.</summary>
        internal byte[] Leftover { get; private set; } = leftover;

        internal bool Closed { get; private set; }

        public string Path => Head.Split(' ')[1];

        /// <summary>The value of the first field named <paramref name="name"/> (any case), or null.</summary>
        public string? Header(string name)
        {
            foreach (var line in Head.Split("\r\n").Skip(1))
            {
                int colon = line.IndexOf(':');
                if (colon > 0 && line.AsSpan(0, colon).Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return line[(colon + 1)..].Trim();
                }
            }

            return null;
        }

        public Task SendAsync(string text) => socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

        /// <summary>Reads a body of exactly <paramref name="length"/> bytes (Content-Length framing).</summary>
        public async Task<byte[]> ReadBodyAsync(int length)
        {
            var body = new byte[length];
            int filled = Math.Min(length, Leftover.Length);
            Leftover.AsSpan(0, filled).CopyTo(body);
            Leftover = Leftover[filled..];
            while (filled < length)
            {
                int read = await socket.ReceiveAsync(body.AsMemory(filled), SocketFlags.None);
                if (read == 0)
                {
                    throw new EndOfStreamException($"closed after {filled} of {length} body bytes");
                }

                filled += read;
            }

            return body;
        }

        /// <summary>Closes the connection once the handler returns.</summary>
        public void Close() => Closed = true;
    }
}
