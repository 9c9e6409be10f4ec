using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Http;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>Opens a connection to an HTTP/1.1 endpoint (TLS when the cluster says so); null when that failed, counted.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    /// <param name="connectTimeout">The cluster's connect timeout, cut to the time left before the request's deadline (<see cref="RequestDeadline.ConnectTimeout"/>).</param>
    internal static async ValueTask<UpstreamConnection?> ConnectAsync(Endpoint endpoint, Cluster cluster, TimeSpan connectTimeout)
    {
        var started = Environment.TickCount64;
        try
        {
            var socket = await Connector.ConnectAsync(endpoint, connectTimeout).ConfigureAwait(false);
            IDuplexPipe transport = socket;
            if (cluster.Settings.TlsFor(endpoint) is { } tls)
            {
                var secured = await Tls.TlsHandshake.ConnectAsync(socket, tls, endpoint, connectTimeout).ConfigureAwait(false);
                if (secured is null)
                {
                    cluster.Metrics.ConnectRefused.Increment(); // the handshake failed; the socket is closed
                    return null;
                }

                transport = secured;
            }

            cluster.Metrics.Connections.Increment();
            cluster.Metrics.ConnectDuration.Observe(Environment.TickCount64 - started);
            return new UpstreamConnection(socket, transport, endpoint);
        }
        catch (TimeoutException)
        {
            cluster.Metrics.ConnectTimeouts.Increment();
        }
        catch (SocketException)
        {
            cluster.Metrics.ConnectRefused.Increment();
        }

        return null;
    }

    /// <summary>
    /// Writes the forwarded request head: original field lines less the route's removals, framing re-derived,
    /// X-Forwarded-* and trace context added, then the filters' and the route's additions; the target and Host as the
    /// route rewrites them (<paramref name="endpoint"/>: the one this try goes to, for auto_host_rewrite).
    /// </summary>
    private void WriteRequestHead(IBufferWriter<byte> output, bool hasBody, ReadOnlySpan<byte> connection = default, Upstream.Endpoint? endpoint = null)
    {
        var rewrite = _exchange.UpstreamTarget;
        var options = new Http1ForwardOptions
        {
            Framing = !hasBody ? Http1BodyFraming.None : _request.IsChunked ? Http1BodyFraming.Chunked : Http1BodyFraming.ContentLength,
            ContentLength = _request.ContentLength,
            ForwardUpgrade = _request.IsUpgradeRequest,
            Connection = !connection.IsEmpty ? connection : _request.IsUpgradeRequest ? "upgrade"u8 : default,
            ForwardedFor = _clientAddressText,
            ForwardedProto = ForwardedScheme.OfDownstream(_downstreamTls),
            ForwardedHost = _request.Host,
            RequestId = _request.Contains(KnownHeader.XRequestId) ? default : GeneratedRequestId,
            ReplaceTraceContext = RequestTrace.PropagatesOwnSpan(_telemetry),
            ExtraLines = TraceLines,
            AddedLines = _exchange.RequestHeadersToAdd.Http1Lines,
            Target = rewrite.TargetOr(default),
            Host = rewrite.HostOr(RequiredHost(endpoint), endpoint),
            Removed = _exchange.RequestFieldsRemoved,
        };
        Http1HeadWriter.WriteRequest(output, _request, options);
    }

    /// <summary>
    /// The Host an HTTP/1.0 request without one is sent with: the request goes upstream as HTTP/1.1, which must carry
    /// Host (RFC 9112 3.2), so it gets the endpoint's authority, as nginx sends its upstream's name. Empty when the
    /// client sent Host (kept as sent) or an absolute-form target (Host comes from it).
    /// </summary>
    private ReadOnlySpan<byte> RequiredHost(Upstream.Endpoint? endpoint) =>
        _request.Host.IsEmpty && _request.TargetForm != Http.Http1.RequestTargetForm.Absolute && endpoint is not null ? endpoint.AuthorityBytes : default;

    /// <summary>The client's address as X-Forwarded-For carries it.</summary>
    internal ReadOnlySpan<byte> ClientAddressText => _clientAddressText;

    /// <summary>The request's x-request-id: the client's, or the one made for it (<see cref="GeneratedRequestId"/>).</summary>
    internal ReadOnlySpan<byte> RequestId => _request.TryGetValue(HeaderNames.XRequestId, out var id) ? id : GeneratedRequestId;

    /// <summary>
    /// The x-request-id of a request that came without one: made on first use, then the same for every attempt,
    /// the mirrored copy and the access-log entry, so the upstream's logs and the proxy's agree on it.
    /// </summary>
    private ReadOnlySpan<byte> GeneratedRequestId
    {
        get
        {
            if (!_requestIdMade)
            {
                RequestIds.Write(_requestId);
                _requestIdMade = true;
            }

            return _requestId;
        }
    }
}
