using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>Socket helpers for tests: connect, send, read a line or to the end, with timeouts.</summary>
public static class TcpClientHelpers
{
    public static async Task<Socket> ConnectAsync(IPEndPoint address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address).WaitAsync(TimeSpan.FromSeconds(10));
        return socket;
    }

    public static Task SendAsync(this Socket socket, string text) =>
        socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    /// <summary>Reads until end of stream (the peer's FIN) or the timeout; returns what arrived.</summary>
    public static async Task<string> ReadToEndAsync(this Socket socket, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var output = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(output.ToArray());
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (or throws on end of stream).</summary>
    public static async Task<string> ReadExactlyAsync(this Socket socket, int count, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancel.Token);
            if (read == 0)
            {
                throw new EndOfStreamException($"closed after {filled} of {count} bytes");
            }

            filled += read;
        }

        return Encoding.ASCII.GetString(buffer);
    }

    /// <summary>Reads one "\n"-terminated line, byte by byte (fine for tests).</summary>
    public static async Task<string> ReadLineAsync(this Socket socket, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            var read = await socket.ReceiveAsync(one, SocketFlags.None, cancel.Token);
            if (read == 0 || one[0] == (byte)'\n')
            {
                return line.ToString();
            }

            line.Append((char)one[0]);
        }
    }

    /// <summary>A port with nothing listening on it (bound then released).</summary>
    public static int UnusedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Polls <paramref name="condition"/> until true or the timeout passes (not a timing assertion: a bound wait).</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
    }
}
