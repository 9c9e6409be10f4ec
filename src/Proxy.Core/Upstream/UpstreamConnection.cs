using System.IO.Pipelines;
using Pipelines.Sockets.Unofficial;

namespace Proxy.Upstream;

/// <summary>One upstream HTTP/1.1 connection, owned by one request at a time or idle in its endpoint's pool.</summary>
public sealed class UpstreamConnection : IDisposable
{
    private int _disposed;

    public UpstreamConnection(SocketConnection socket, Endpoint endpoint)
    {
        Socket = socket;
        Endpoint = endpoint;
    }

    public SocketConnection Socket { get; }

    public Endpoint Endpoint { get; }

    public PipeReader Input => Socket.Input;

    public PipeWriter Output => Socket.Output;

    /// <summary>Requests sent on this connection so far.</summary>
    public int Requests { get; set; }

    /// <summary>When it last went idle (Environment.TickCount64).</summary>
    public long IdleSince { get; set; }

    /// <summary>True once it has carried a request: a failure before any response byte may then be a stale close.</summary>
    public bool IsReused => Requests > 1;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Socket.Dispose();
        }
    }
}
