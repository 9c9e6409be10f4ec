using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.LoadTests.Upstream;

/// <summary>
/// A small, fast, sockets-based HTTP/1.1 upstream for the scenarios: keep-alive, pipelining,
/// a fixed 200 response naming the server, an optional per-request delay (the "slow endpoint"),
/// request counting, and <see cref="Kill"/> which resets every connection like a crashed process.
/// </summary>
public sealed class TinyHttpServer : IDisposable
{
    private readonly Socket _listener;
    private readonly byte[] _response;
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private long _requests;
    private int _killed;

    /// <summary>Binds 127.0.0.1:<paramref name="port"/> (0 = any free port) and starts accepting.</summary>
    public TinyHttpServer(string name, int port = 0, int bodyBytes = 64)
    {
        Name = name;
        var body = new string('x', bodyBytes);
        _response = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {bodyBytes}\r\nX-Upstream: {name}\r\n\r\n{body}");
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        _listener.Listen(4096);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = AcceptLoopAsync();
    }

    /// <summary>The name sent back in X-Upstream.</summary>
    public string Name { get; }

    /// <summary>The bound port.</summary>
    public int Port { get; }

    /// <summary>"127.0.0.1:port", as the proxy config wants it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Requests answered so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Connections currently open.</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>A delay applied before each response (zero: answer at once).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Stops listening and resets every open connection, like a process being killed.</summary>
    public void Kill()
    {
        if (Interlocked.Exchange(ref _killed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _listener.Dispose();
        foreach (var socket in _connections.Keys)
        {
            try
            {
                // SO_LINGER 0: close sends RST, as the kernel does for a dead process with unread data.
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (ObjectDisposedException)
            {
                // Its serve loop closed it at the same moment (the peer went away first).
            }

            socket.Dispose();
        }

        _connections.Clear();
    }

    /// <summary>Same as <see cref="Kill"/>.</summary>
    public void Dispose()
    {
        Kill();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The listener was closed by Kill, or the process is out of descriptors; either way stop.
                return;
            }

            socket.NoDelay = true;
            _connections.TryAdd(socket, 0);
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var buffer = new byte[8192];
        int start = 0, end = 0;
        var output = new MemoryStream();
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }

                end += n;
                int answered = 0;
                while (TryTakeRequest(buffer.AsSpan(start, end - start), out int length))
                {
                    start += length;
                    answered++;
                }

                if (answered > 0)
                {
                    var delay = Delay;
                    if (delay > TimeSpan.Zero)
                    {
                        await Task.Delay(delay * answered, _stop.Token).ConfigureAwait(false);
                    }

                    output.SetLength(0);
                    for (int i = 0; i < answered; i++)
                    {
                        output.Write(_response);
                    }

                    Interlocked.Add(ref _requests, answered);
                    await socket.SendAsync(output.GetBuffer().AsMemory(0, (int)output.Length), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }

                if (start == end)
                {
                    start = end = 0;
                }
                else if (end == buffer.Length)
                {
                    if (start == 0)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                    else
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or Kill reset the connection: nothing to answer any more.
        }
        finally
        {
            _connections.TryRemove(socket, out _);
            socket.Dispose();
        }
    }

    /// <summary>Finds one complete request (head plus Content-Length body) at the start of the input.</summary>
    private static bool TryTakeRequest(ReadOnlySpan<byte> input, out int length)
    {
        length = 0;
        int end = input.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return false;
        }

        long body = 0;
        var head = input[..end];
        int at = IndexOfIgnoreCase(head, "\r\ncontent-length:"u8);
        if (at >= 0)
        {
            var value = head[(at + 17)..];
            int eol = value.IndexOf("\r\n"u8);
            value = (eol >= 0 ? value[..eol] : value).Trim((byte)' ');
            Utf8Parser.TryParse(value, out body, out _);
        }

        if (input.Length < end + 4 + body)
        {
            return false;
        }

        length = end + 4 + (int)body;
        return true;
    }

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(haystack.Slice(i, needle.Length), needle))
            {
                return i;
            }
        }

        return -1;
    }
}
