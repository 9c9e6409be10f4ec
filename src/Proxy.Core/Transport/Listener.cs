using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;
using Proxy.Observability;
using Proxy.Observability.Metrics;

namespace Proxy.Transport;

/// <summary>
/// A bound address that accepts connections and hands each one to an <see cref="IConnectionHandler"/>.
/// The accept loop survives accept errors (EMFILE, aborted connections) with back-off and counts them.
/// </summary>
public sealed class Listener : IAsyncDisposable
{
    private readonly Socket _socket;
    private volatile IConnectionHandler _handler;
    private volatile Counter _acceptErrors;
    private readonly Logger _log;
    private Task _acceptLoop = Task.CompletedTask;
    private volatile bool _stopping;

    /// <summary>Binds and listens at once, so a bad or busy address fails here, not later.</summary>
    public Listener(string name, EndPoint address, IConnectionHandler handler, Counter acceptErrors, Logger log, int backlog = 4096)
    {
        Name = name;
        _handler = handler;
        _acceptErrors = acceptErrors;
        _log = log;
        _socket = ListenSocket.Open(address, backlog);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public string Name { get; private set; }

    /// <summary>
    /// Serves the same socket under another listener's name (a reload that renamed a listener but kept its address:
    /// binding the address again while this socket holds it would fail). Connections accepted from now on go to
    /// <paramref name="handler"/>; those already accepted keep theirs.
    /// </summary>
    public void Retarget(string name, IConnectionHandler handler, Counter acceptErrors)
    {
        Name = name;
        _acceptErrors = acceptErrors;
        _handler = handler;
    }

    /// <summary>Longest wait for a closing connection's last bytes to reach a client that does not read.</summary>
    public static readonly TimeSpan SendDrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Starts the accept loop.</summary>
    public void Start() => _acceptLoop = Task.Run(AcceptLoopAsync);

    private async Task AcceptLoopAsync()
    {
        var backoff = AcceptErrorPolicy.InitialBackoff;
        while (!_stopping)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync().ConfigureAwait(false);
                backoff = AcceptErrorPolicy.InitialBackoff;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex) when (!_stopping)
            {
                _acceptErrors.Increment();
                _log.Warn("accept failed", ("listener", Name), ("error", ex.SocketErrorCode));
                if (AcceptErrorPolicy.NeedsBackoff(ex.SocketErrorCode))
                {
                    await Task.Delay(backoff).ConfigureAwait(false);
                    backoff = AcceptErrorPolicy.Next(backoff);
                }

                continue;
            }
            catch (SocketException)
            {
                break; // closed while stopping
            }

            _ = ServeAsync(accepted);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        SocketPipe? connection = null;
        try
        {
            socket.NoDelay = true;
            connection = SocketPipe.Create(socket, TransportOptions.Pipe, TransportOptions.Pipe);
            await _handler.HandleAsync(connection, socket).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or ConnectionResetException or ConnectionAbortedException)
        {
            // The peer went away; the handler has already counted what it needed to.
        }
        catch (Exception ex)
        {
            _log.Error("connection handler failed", ("listener", Name), ("error", ex.ToString()));
        }
        finally
        {
            if (connection is not null)
            {
                await SendDrain.CompleteAndWaitAsync(connection, SendDrainTimeout).ConfigureAwait(false);
                SocketClose.Close(connection);
            }
            else
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Stops accepting; connections already accepted keep running.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
