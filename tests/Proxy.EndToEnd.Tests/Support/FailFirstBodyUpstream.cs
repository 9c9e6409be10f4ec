using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// An HTTP/1.1 upstream on a raw socket that fails its first request mid-body: once it has received
/// <c>failAfter</c> body bytes (content-length or chunked, decoded), it closes the connection without a byte of
/// response (with RST when <c>reset</c>, else FIN). Every later request's body is read whole and answered
/// <c>200 ok {length}</c>. The bodies received are kept, decoded, byte for byte.
/// </summary>
internal sealed class FailFirstBodyUpstream : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Socket> _accepted = [];
    private readonly int _failAfter;
    private readonly bool _reset;
    private int _requests;

    private FailFirstBodyUpstream(int failAfter, bool reset)
    {
        (_failAfter, _reset) = (failAfter, reset);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Address = _listener.LocalEndPoint!.ToString()!;
        _ = AcceptLoopAsync();
    }

    public string Address { get; }

    /// <summary>Requests whose head arrived, the failed one included.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>What the failed first request's body had delivered when the connection was closed.</summary>
    public TaskCompletionSource<byte[]> FailedPrefix { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The whole bodies of the requests answered, in order.</summary>
    public ConcurrentQueue<byte[]> Bodies { get; } = new();

    /// <summary>The heads of every request, in order.</summary>
    public ConcurrentQueue<string> Heads { get; } = new();

    public static FailFirstBodyUpstream Start(int failAfter, bool reset = true) => new(failAfter, reset);

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
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var _ = socket;
        var reader = new Reader(socket, _stop.Token);
        try
        {
            while (true)
            {
                string? head = await reader.ReadHeadAsync();
                if (head is null)
                {
                    return;
                }

                Heads.Enqueue(head);
                bool failing = Interlocked.Increment(ref _requests) == 1;
                var body = new MemoryStream();
                bool complete = await ReadBodyAsync(reader, head, body, failing ? _failAfter : int.MaxValue);
                if (failing)
                {
                    FailedPrefix.TrySetResult(body.ToArray());
                    if (_reset)
                    {
                        socket.LingerState = new LingerOption(true, 0);
                    }

                    socket.Close();
                    return;
                }

                if (!complete)
                {
                    return;
                }

                Bodies.Enqueue(body.ToArray());
                string text = $"ok {body.Length}";
                await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-length: {text.Length}\r\n\r\n{text}"), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or EndOfStreamException)
        {
            // the proxy closed the connection, or the test ended
        }
    }

    // Reads the body into `body` until it ends (true) or `stopAfter` bytes arrived (false).
    private static async Task<bool> ReadBodyAsync(Reader reader, string head, MemoryStream body, int stopAfter)
    {
        string? length = HeaderValue(head, "content-length");
        if (length is not null)
        {
            long remaining = long.Parse(length);
            while (remaining > 0)
            {
                if (body.Length >= stopAfter)
                {
                    return false;
                }

                byte[] piece = await reader.ReadSomeAsync((int)Math.Min(remaining, stopAfter - body.Length));
                body.Write(piece);
                remaining -= piece.Length;
            }

            return true;
        }

        if (HeaderValue(head, "transfer-encoding") is not { } coding || !coding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            return true; // no body
        }

        while (true)
        {
            string sizeLine = await reader.ReadLineAsync();
            int size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
            if (size == 0)
            {
                while ((await reader.ReadLineAsync()).Length > 0)
                {
                    // trailers
                }

                return true;
            }

            int left = size;
            while (left > 0)
            {
                if (body.Length >= stopAfter)
                {
                    return false;
                }

                byte[] piece = await reader.ReadSomeAsync(Math.Min(left, (int)(stopAfter - body.Length)));
                body.Write(piece);
                left -= piece.Length;
            }

            await reader.ReadLineAsync(); // the CRLF after the chunk's data
        }
    }

    private static string? HeaderValue(string head, string name)
    {
        foreach (var line in head.Split("\r\n").Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
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

    /// <summary>Buffered reads of one connection: heads, lines, and body bytes.</summary>
    private sealed class Reader(Socket socket, CancellationToken stop)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        private async Task<bool> FillAsync()
        {
            if (_start == _end)
            {
                (_start, _end) = (0, 0);
            }
            else if (_end == _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                (_end, _start) = (_end - _start, 0);
            }

            int read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, stop);
            _end += read;
            return read > 0;
        }

        /// <summary>The next request head, or null when the connection ended before one.</summary>
        public async Task<string?> ReadHeadAsync()
        {
            int end;
            while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (!await FillAsync())
                {
                    return null;
                }
            }

            string head = Encoding.ASCII.GetString(_buffer, _start, end + 4);
            _start += end + 4;
            return head;
        }

        public async Task<string> ReadLineAsync()
        {
            int end;
            while ((end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
            {
                if (!await FillAsync())
                {
                    throw new EndOfStreamException("the connection ended mid-line");
                }
            }

            string line = Encoding.ASCII.GetString(_buffer, _start, end);
            _start += end + 2;
            return line;
        }

        public async Task<byte[]> ReadSomeAsync(int most)
        {
            if (_start == _end && !await FillAsync())
            {
                throw new EndOfStreamException("the connection ended mid-body");
            }

            int count = Math.Min(most, _end - _start);
            byte[] piece = _buffer.AsSpan(_start, count).ToArray();
            _start += count;
            return piece;
        }
    }
}
