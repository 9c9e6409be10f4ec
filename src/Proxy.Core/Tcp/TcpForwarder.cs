using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Proxy.LoadBalancing;
using System.Net.Sockets;
using Proxy.Observability;
using Proxy.Observability.AccessLog;
using Proxy.Observability.Metrics;
using Proxy.Runtime;
using Proxy.Tls;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Tcp;

/// <summary>
/// Forwards one downstream TCP connection to an endpoint of a cluster: connect with a timeout, then
/// copy both directions at once. A FIN in one direction is passed on (the other side's output is
/// completed, which shuts down its send half) while the other direction keeps flowing; the idle
/// timeout closes both when no byte moves either way.
/// </summary>
public sealed class TcpForwarder : ITrackedConnection
{
    private readonly IDuplexPipe _downstream;
    private readonly IDisposable _downstreamOwner;
    private readonly Cluster _cluster;
    private readonly TimeSpan _idleTimeout;
    private readonly Counter _idleTimeouts;
    private readonly PickContext _pickContext;
    private SocketPipe? _upstream;
    private IDuplexPipe? _upstreamTransport;
    private long _lastActivity = Environment.TickCount64;
    private int _closeReason; // first cause wins: 0 none, 1 idle, 2 abort

    private TcpForwarder(IDuplexPipe downstream, IDisposable downstreamOwner, Cluster cluster, TimeSpan idleTimeout, Counter idleTimeouts, PickContext pickContext)
    {
        _pickContext = pickContext;
        _downstream = downstream;
        _downstreamOwner = downstreamOwner;
        _cluster = cluster;
        _idleTimeout = idleTimeout;
        _idleTimeouts = idleTimeouts;
    }

    /// <summary>
    /// Serves the connection to the end. Returns once both directions are done; the caller disposes
    /// <paramref name="downstream"/>.
    /// </summary>
    public static Task ForwardAsync(
        SocketPipe downstream, Cluster cluster, string listener, TimeSpan idleTimeout,
        ListenerMetrics listenerMetrics, ProxyMetrics metrics, ConnectionTracker tracker, IPAddress? clientAddress) =>
        ForwardAsync(downstream, downstream, cluster, listener, idleTimeout, listenerMetrics, metrics, tracker, clientAddress);

    /// <summary>
    /// Serves a downstream byte stream that is not a bare socket (TLS over one); <paramref name="downstreamOwner"/>
    /// closes it on idle timeout or abort. <paramref name="streamMetrics"/> names a sidecar's workloads at both ends; null
    /// for the (listener, cluster) metrics of an edge. <paramref name="destination"/> is where the client's connection was
    /// going, which an original-destination cluster connects to.
    /// </summary>
    public static async Task ForwardAsync(
        IDuplexPipe downstream, IDisposable downstreamOwner, Cluster cluster, string listener, TimeSpan idleTimeout,
        ListenerMetrics listenerMetrics, ProxyMetrics metrics, ConnectionTracker tracker, IPAddress? clientAddress, RequestTelemetry? telemetry = null,
        TcpStreamMetrics? streamMetrics = null, Func<TlsConnection, ValueTask<TcpStreamMetrics?>>? afterHandshake = null, IPEndPoint? destination = null)
    {
        // ring_hash and maglev keep a client on one endpoint when the cluster hashes on its address; an original-destination
        // cluster connects to where the connection was going.
        var pickContext = cluster.HashOnClientAddress && clientAddress is not null ? PickContext.ForAddress(clientAddress) : PickContext.None;
        pickContext = pickContext with { Destination = destination };
        var forwarder = new TcpForwarder(downstream, downstreamOwner, cluster, idleTimeout, listenerMetrics.IdleTimeouts, pickContext);
        var id = tracker.Add(forwarder);
        var started = Environment.TickCount64;
        var startTime = telemetry?.AccessLog is not null ? DateTime.UtcNow : default;
        forwarder._stream = streamMetrics ?? metrics.TcpStream(listener, cluster.Name);
        forwarder._afterHandshake = afterHandshake;
        try
        {
            await forwarder.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            tracker.Remove(id);
            var stream = forwarder._stream;
            if (!forwarder._opened)
            {
                stream.IstioOpened.Increment(); // it never got as far as the upstream: counted on the series it started with
            }

            var elapsed = Environment.TickCount64 - started;
            stream.Duration.Observe(elapsed);
            stream.IstioClosed.Increment();
            if (telemetry?.AccessLog is { } log && log.TryRent() is { } entry)
            {
                // One access-log line per TCP connection, like ztunnel's.
                entry.Kind = AccessLogKind.Tcp;
                entry.StartTime = startTime;
                entry.DurationMs = elapsed;
                entry.Protocol = "tcp";
                entry.BytesReceived = forwarder._received;
                entry.BytesSent = forwarder._sent;
                entry.UpstreamEndpoint = forwarder._endpoint?.Authority;
                entry.ResponseFlags = forwarder._flag;
                entry.Attempts = 1;
                entry.Listener = listener;
                entry.Cluster = cluster.Name;
                log.Publish(entry);
            }
        }
    }

    // What the access log reports; each written by the one task that owns it.
    private long _received;
    private long _sent;
    private Endpoint? _endpoint;
    private string _flag = "-";

    // The series the connection is counted in: the one it starts with, or the one the upstream's handshake named
    // (a sidecar learns its peer's workload there, _afterHandshake).
    private TcpStreamMetrics _stream = null!;
    private Func<TlsConnection, ValueTask<TcpStreamMetrics?>>? _afterHandshake;
    private bool _opened;

    private async Task RunAsync()
    {
        var endpoint = _cluster.Pick(_pickContext);
        if (endpoint is null)
        {
            _flag = "UH";
            return; // no healthy endpoint (counted by the cluster): close the downstream at once
        }

        _endpoint = endpoint;
        var connectStarted = Environment.TickCount64;
        try
        {
            _upstream = await Connector.ConnectAsync(endpoint, _cluster.ConnectTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _cluster.Metrics.ConnectTimeouts.Increment();
            _flag = "UF";
            return;
        }
        catch (SocketException)
        {
            _cluster.Metrics.ConnectRefused.Increment();
            _flag = "UF";
            return;
        }

        _upstreamTransport = _upstream;
        if (_cluster.Settings.TlsFor(endpoint) is { } tls)
        {
            var secured = await TlsHandshake.ConnectAsync(_upstream, tls, endpoint, _cluster.ConnectTimeout).ConfigureAwait(false);
            if (secured is null)
            {
                _cluster.Metrics.ConnectRefused.Increment(); // handshake failed; the socket is closed
                _flag = "UF";
                return;
            }

            _upstreamTransport = secured;
            if (_afterHandshake is not null && await _afterHandshake(secured).ConfigureAwait(false) is { } named)
            {
                _stream = named;
            }
        }

        var stream = _stream;
        stream.IstioOpened.Increment();
        _opened = true;

        _cluster.Metrics.Connections.Increment();
        _cluster.Metrics.ConnectDuration.Observe(Environment.TickCount64 - connectStarted);
        endpoint.OnRequestStarted();
        var streamStarted = Environment.TickCount64;
        try
        {
            if (Volatile.Read(ref _closeReason) != 0)
            {
                return; // aborted (drain deadline) while connecting
            }

            var upload = CopyAsync(_downstream.Input, _upstreamTransport.Output, stream.Received, stream.IstioReceived, upload: true);
            var download = CopyAsync(_upstreamTransport.Input, _downstream.Output, stream.Sent, stream.IstioSent, upload: false);
            await Task.WhenAll(upload, download).ConfigureAwait(false);
        }
        finally
        {
            endpoint.OnRequestCompleted(TimeSpan.FromMilliseconds(Environment.TickCount64 - streamStarted));
            if (_upstreamTransport is TlsConnection upstreamTls)
            {
                await upstreamTls.CloseAsync(Listener.SendDrainTimeout).ConfigureAwait(false);
            }

            await SendDrain.CompleteAndWaitAsync(_upstream, Listener.SendDrainTimeout).ConfigureAwait(false);
            if (_upstreamTransport is TlsConnection)
            {
                _upstream.Dispose();
            }
            else
            {
                SocketClose.Close(_upstream); // both copies have ended: the orderly close throws nothing
            }
        }
    }

    /// <summary>
    /// Copies one direction until its reader sees end of stream, then completes the writer: that is
    /// the half-close. An error in either pipe aborts the whole connection.
    /// </summary>
    private async Task CopyAsync(PipeReader input, PipeWriter output, Counter bytes, Counter istioBytes, bool upload)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    foreach (var segment in buffer)
                    {
                        output.Write(segment.Span);
                    }

                    bytes.Add(buffer.Length);
                    istioBytes.Add(buffer.Length);
                    if (upload)
                    {
                        _received += buffer.Length;
                    }
                    else
                    {
                        _sent += buffer.Length;
                    }
                    Volatile.Write(ref _lastActivity, Environment.TickCount64);
                }

                input.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }

                var flush = await output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break; // the other side stopped reading
                }
            }

            await output.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            failure = ex;
        }

        input.Complete();
        output.Complete();
        if (failure is not null || Volatile.Read(ref _closeReason) != 0)
        {
            Abort();
        }
    }

    public void CheckIdle(long nowMilliseconds)
    {
        if (_idleTimeout > TimeSpan.Zero
            && nowMilliseconds - Volatile.Read(ref _lastActivity) > (long)_idleTimeout.TotalMilliseconds
            && Interlocked.CompareExchange(ref _closeReason, 1, 0) == 0)
        {
            _idleTimeouts.Increment();
            Close();
        }
    }

    /// <summary>An opaque stream has no boundary at which to close it politely: it gets the drain timeout.</summary>
    public void Drain()
    {
    }

    public void Abort()
    {
        Interlocked.CompareExchange(ref _closeReason, 2, 0);
        Close();
    }

    private void Close()
    {
        // Disposing the sockets ends both copy loops: pending reads complete and writes fail.
        (_upstreamTransport as IDisposable)?.Dispose();
        _upstream?.Dispose();
        _downstreamOwner.Dispose();
    }
}
