using System.IO.Pipelines;
using System.Net.Sockets;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Tls;
using Proxy.Transport;

namespace Proxy.Upstream;

/// <summary>
/// The HTTP/2 connections of one endpoint. Streams are multiplexed over the open connections up to each peer's
/// SETTINGS_MAX_CONCURRENT_STREAMS; a new connection is opened only when every one is full, and concurrent callers
/// share that one connect instead of each dialling. The connection list is an immutable array swapped under a
/// lock on the rare add and remove; opening a stream reads it without locking.
/// </summary>
public sealed class Http2ConnectionPool
{
    private readonly object _lock = new();
    private readonly Http2ConnectionOptions _options;
    private Http2ClientConnection[] _connections = [];
    private Task<Http2ClientConnection?>? _connecting;

    /// <summary>Creates an empty pool whose connections use <paramref name="options"/>.</summary>
    public Http2ConnectionPool(Http2ConnectionOptions? options = null) => _options = options ?? Http2ConnectionOptions.Default;

    /// <summary>Open connections now.</summary>
    public int ConnectionCount => Volatile.Read(ref _connections).Length;

    /// <summary>How long a connection may carry no stream before <see cref="Sweep"/> closes it (the cluster's pool idle_timeout).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Opens a stream on a connection with room, connecting when all are full (over TLS when <paramref name="tls"/> is
    /// set, the cluster's), and sends <paramref name="headers"/>. Returns null when the endpoint cannot be reached or
    /// the handshake failed. <paramref name="interimSink"/> receives 1xx responses.
    /// </summary>
    /// <param name="waitLimit">
    /// How long this caller waits for a connect when it must wait for one (the time left before its request's deadline,
    /// when shorter than <paramref name="connectTimeout"/>): the connect itself, shared with other callers, keeps the
    /// cluster's timeout; only this caller gives up (null) when the limit passes.
    /// </param>
    public async ValueTask<Http2Stream?> OpenStreamAsync(Endpoint endpoint, Http2HeaderList headers, bool endStream, TimeSpan connectTimeout, ClusterMetrics metrics, TlsClientPolicy? tls, IHttp2InterimResponseSink? interimSink = null, TimeSpan? waitLimit = null)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            Http2ClientConnection[] seen = Volatile.Read(ref _connections);
            if (TryOpenOn(seen, sameThread: true, headers, endStream, interimSink) is { } local)
            {
                return local;
            }

            if (TryOpenOn(seen, sameThread: false, headers, endStream, interimSink) is { } other)
            {
                return other;
            }

            Task<Http2ClientConnection?>? connecting;
            lock (_lock)
            {
                // A connect that finished between our scan and this lock has already added its
                // connection: scan again instead of opening a second one.
                connecting = _connecting is null && !ReferenceEquals(seen, _connections)
                    ? null
                    : _connecting ??= ConnectAsync(endpoint, connectTimeout, metrics, tls);
            }

            if (connecting is null)
            {
                continue;
            }

            if (waitLimit is { } limit && limit < connectTimeout && !connecting.IsCompleted)
            {
                try
                {
                    // Allocates a timer, on the connect path only, and only for a request whose deadline is near.
                    if (await connecting.WaitAsync(limit).ConfigureAwait(false) is null)
                    {
                        return null;
                    }
                }
                catch (TimeoutException)
                {
                    return null; // this request's time ran out; the connect goes on for the others
                }
            }
            else if (await connecting.ConfigureAwait(false) is null)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// Opens the stream on the first connection with room among those whose read loop runs on the calling thread
    /// (<paramref name="sameThread"/>), or among the others. Callers run on the socket thread of their downstream
    /// connection, so a stream on a connection read by that same thread keeps the whole exchange there: the request,
    /// the response's read batch, the relay to the client and its flush, with no lock or cache line shared with the
    /// other socket threads. That is Envoy's and HAProxy's per-worker pools; here connections are only preferred, not
    /// owned, so a thread whose connections are full uses another's rather than opening one of its own.
    /// </summary>
    private static Http2Stream? TryOpenOn(Http2ClientConnection[] connections, bool sameThread, Http2HeaderList headers, bool endStream, IHttp2InterimResponseSink? interimSink)
    {
        int thread = Environment.CurrentManagedThreadId;
        foreach (Http2ClientConnection connection in connections)
        {
            if ((connection.ReadThreadId == thread) != sameThread)
            {
                continue;
            }

            Http2Stream? stream = connection.TryOpenStream(headers, endStream, interimSink);
            if (stream is not null)
            {
                // Requests opened by many streams at once leave in one write.
                connection.ScheduleFlush();
                return stream;
            }
        }

        return null;
    }

    /// <summary>
    /// Runtime sweeper: connections that carried no stream for longer than <see cref="IdleTimeout"/> leave the pool
    /// and close gracefully (GOAWAY NO_ERROR, RFC 9113 6.8), so an idle upstream is not held open for ever. A stream
    /// opened between the check and the GOAWAY still completes: GOAWAY only stops new ones.
    /// </summary>
    public void Sweep(long nowMilliseconds)
    {
        Http2ClientConnection[] seen = Volatile.Read(ref _connections);
        long timeoutMs = (long)IdleTimeout.TotalMilliseconds;
        foreach (Http2ClientConnection connection in seen)
        {
            if (connection.IsIdle(nowMilliseconds, timeoutMs))
            {
                RemoveFromList(connection);
                connection.ShutdownAsync().AsTask().ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            }
        }
    }

    /// <summary>Closes every connection (the endpoint left its cluster or changed protocol).</summary>
    public void Clear()
    {
        Http2ClientConnection[] all;
        lock (_lock)
        {
            all = _connections;
            _connections = [];
        }

        foreach (Http2ClientConnection connection in all)
        {
            connection.ShutdownAsync().AsTask().ContinueWith(static (_, state) => ((Http2ClientConnection)state!).Abort(), connection, TaskScheduler.Default);
        }
    }

    private async Task<Http2ClientConnection?> ConnectAsync(Endpoint endpoint, TimeSpan timeout, ClusterMetrics metrics, TlsClientPolicy? tls)
    {
        await Task.Yield(); // the caller holds the pool lock
        long started = Environment.TickCount64;
        try
        {
            var socket = await Connector.ConnectAsync(endpoint, timeout).ConfigureAwait(false);
            IDuplexPipe transport = socket;
            IDisposable owner = socket;
            if (tls is not null)
            {
                // As for HTTP/1.1 endpoints (Http1ServerConnection.ConnectAsync): a failed handshake closes the socket
                // and counts as refused. The policy offers ALPN h2 unless the cluster's tls.alpn says otherwise.
                var secured = await TlsHandshake.ConnectAsync(socket, tls, endpoint, timeout).ConfigureAwait(false);
                if (secured is null)
                {
                    metrics.ConnectRefused.Increment();
                    lock (_lock)
                    {
                        _connecting = null;
                    }

                    return null;
                }

                transport = secured;
                owner = secured;
            }

            metrics.Connections.Increment();
            metrics.ConnectDuration.Observe(Environment.TickCount64 - started);
            var connection = new Http2ClientConnection(transport, owner, _options);
            connection.Closed += Remove;

            // Start first: it writes the client preface and SETTINGS into the output before it returns. Published
            // before that, a concurrent caller scanning the pool could write a request's HEADERS ahead of the
            // preface (RFC 9113 3.4), and the peer would reject the connection with every stream on it.
            connection.Start();
            lock (_lock)
            {
                _connections = [.. _connections, connection];
                _connecting = null;
            }

            if (connection.IsClosed)
            {
                Remove(connection); // it ended before it was published, so its Closed event found nothing to remove
            }

            return connection;
        }
        catch (Exception ex) when (ex is TimeoutException or SocketException)
        {
            (ex is TimeoutException ? metrics.ConnectTimeouts : metrics.ConnectRefused).Increment();
            lock (_lock)
            {
                _connecting = null;
            }

            return null;
        }
    }

    private void Remove(Http2ClientConnection connection)
    {
        RemoveFromList(connection);
        connection.Abort();
    }

    private void RemoveFromList(Http2ClientConnection connection)
    {
        lock (_lock)
        {
            int index = Array.IndexOf(_connections, connection);
            if (index >= 0)
            {
                var rest = new Http2ClientConnection[_connections.Length - 1];
                Array.Copy(_connections, 0, rest, 0, index);
                Array.Copy(_connections, index + 1, rest, index, rest.Length - index);
                _connections = rest;
            }
        }
    }
}
