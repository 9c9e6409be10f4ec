using System.IO.Pipelines;
using Proxy.Transport;

namespace Proxy.Upstream;

/// <summary>One upstream HTTP/1.1 connection, owned by one request at a time or idle in its endpoint's pool.</summary>
public sealed class UpstreamConnection : IDisposable
{
    private int _disposed;

    public UpstreamConnection(SocketPipe socket, Endpoint endpoint)
        : this(socket, socket, endpoint)
    {
    }

    /// <param name="transport">The byte stream requests use: the socket's pipes, or TLS over them (disposed with the connection).</param>
    public UpstreamConnection(SocketPipe socket, IDuplexPipe transport, Endpoint endpoint)
    {
        Socket = socket;
        Transport = transport;
        Endpoint = endpoint;
    }

    public SocketPipe Socket { get; }

    /// <summary>The socket itself, or a TLS connection over it.</summary>
    public IDuplexPipe Transport { get; }

    public Endpoint Endpoint { get; }

    public PipeReader Input => Transport.Input;

    public PipeWriter Output => Transport.Output;

    /// <summary>Requests sent on this connection so far.</summary>
    public int Requests { get; set; }

    /// <summary>When it last went idle (Environment.TickCount64).</summary>
    public long IdleSince { get; set; }

    /// <summary>True once it has carried a request: a failure before any response byte may then be a stale close.</summary>
    public bool IsReused => Requests > 1;

    /// <summary>
    /// The orderly close, for the owner when nothing else reads or writes the connection (an idle
    /// pooled connection, or one whose exchange is over): both socket loops end before the socket
    /// closes, so closing throws nothing (see <see cref="SocketClose"/>). TLS connections are disposed.
    /// </summary>
    public void Close()
    {
        if (ReferenceEquals(Transport, Socket))
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                SocketClose.Close(Socket);
            }

            return;
        }

        Dispose();
    }

    /// <summary>Closes at once, also under a read or write in progress on another task (an upload cut off, a failed attempt).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            (Transport as IDisposable)?.Dispose();
            Socket.Dispose();
        }
    }
}
