using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// A TCP upstream started by a test. Behaviours: echo; or read to end of stream then answer with
/// "got N bytes" (proves half-close: the answer travels after the client's FIN); or greet with a
/// fixed name first (tells which endpoint a connection reached).
/// </summary>
public sealed class TcpUpstream : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Func<Socket, Task> _serve;
    private readonly Task _loop;
    private int _accepted;

    private TcpUpstream(Func<Socket, Task> serve)
    {
        _serve = serve;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(512);
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    public static TcpUpstream Echo() => new(EchoAsync);

    public static TcpUpstream CountThenAnswer() => new(CountThenAnswerAsync);

    /// <summary>Sends "name\n" on accept, then echoes.</summary>
    public static TcpUpstream Named(string name) => new(async socket =>
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(name + "\n"), SocketFlags.None);
        await EchoAsync(socket);
    });

    private async Task AcceptLoopAsync()
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

            Interlocked.Increment(ref _accepted);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await _serve(client);
                    }
                    catch (SocketException)
                    {
                        // peer reset
                    }
                }
            });
        }
    }

    private static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    private static async Task CountThenAnswerAsync(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
        {
            total += read;
        }

        await socket.SendAsync(Encoding.ASCII.GetBytes($"got {total} bytes"), SocketFlags.None);
        socket.Shutdown(SocketShutdown.Send);
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _loop;
    }
}
