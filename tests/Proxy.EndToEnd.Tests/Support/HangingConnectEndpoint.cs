using System.Net;
using System.Net.Sockets;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// A loopback address whose connects hang: a listener that never accepts, its accept queue filled by the test, so the
/// kernel drops further SYNs and a connect waits for its timeout (as to a host that is down).
/// </summary>
internal sealed class HangingConnectEndpoint : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    private HangingConnectEndpoint(Socket listener) => _listener = listener;

    public string Address => _listener.LocalEndPoint!.ToString()!;

    public static async Task<HangingConnectEndpoint> StartAsync()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endpoint = new HangingConnectEndpoint(listener);

        // Fill the accept queue (backlog + 1 on Linux); a filler whose SYN is dropped already shows the queue is full.
        for (var i = 0; i < 4; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            endpoint._fillers.Add(filler);
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try
            {
                await filler.ConnectAsync(listener.LocalEndPoint!, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return endpoint;
    }

    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
