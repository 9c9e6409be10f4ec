using Proxy.Http.Http1;
using Proxy.Routing;
using Proxy.Forwarding;
using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Configuration;
using Proxy.Detection;
using Proxy.Filters;
using Proxy.Headers;
using Proxy.Interception;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Outbound;
using Proxy.Runtime;
using Proxy.Tcp;
using Proxy.Tls;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Inbound;

/// <summary>
/// The inbound side of a sidecar: original destination, TLS detection, mTLS termination with the
/// workload certificate (strict: plain text refused; permissive: accepted and labelled), the peer's
/// SPIFFE ID, authorization, then the local app at 127.0.0.1 and the original port.
/// </summary>
public sealed class InboundHandler : IConnectionHandler
{
    private InboundSettings _settings; // swapped whole by a reload (Update)
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Port, bool Http2), Func<HttpRouting?>> _routingSources = new();
    private readonly TlsServerPolicy _tls;
    private readonly SpiffeId? _localIdentity;
    private readonly MeshMetrics _mesh;
    private readonly ProxyMetrics _metrics;
    private readonly ListenerMetrics _listenerMetrics;
    private readonly ConnectionTracker _tracker;
    private readonly Func<RequestTelemetry> _telemetry;
    private readonly PeerMetadataCache _peerCache;
    private readonly PeerExchange _peers;
    private readonly Func<AuthorizationPolicy> _currentPolicy;
    private readonly DownstreamHandshakeLog? _handshakeLog;
    private ConcurrentDictionary<int, Cluster> _apps = new();
    private ConcurrentDictionary<int, Cluster> _http2Apps = new();

    /// <summary>Listener name used in metrics.</summary>
    public const string Name = "mesh-inbound";

    public InboundHandler(MeshConfig config, CertificateSource workload, TrustBundle meshCa, MeshMetrics mesh, ProxyMetrics metrics, ConnectionTracker tracker, Func<RequestTelemetry>? telemetry = null, PeerMetadataCache? peers = null, DownstreamHandshakeLog? handshakeLog = null)
    {
        _handshakeLog = handshakeLog;
        _peerCache = peers ?? new PeerMetadataCache();
        _peers = new PeerExchange(_peerCache, fromRequest: true);
        _settings = new InboundSettings(config, workload.Current.SpiffeId?.Value);
        _currentPolicy = () => Volatile.Read(ref _settings).Authorization;
        _tls = new TlsServerPolicy([(workload, [])], meshCa, requireClientCert: true, MeshAlpn.Accepted, TlsDefaults.Mesh);
        _localIdentity = workload.Current.SpiffeId;
        _mesh = mesh;
        _metrics = metrics;
        _listenerMetrics = new ListenerMetrics(metrics, Name);
        _tracker = tracker;
        _telemetry = telemetry ?? (static () => RequestTelemetry.None);
    }

    /// <summary>
    /// Applies a reload: the mode, detection, opaque ports, authorization rules and workload labels of the new
    /// <paramref name="config"/> hold for connections accepted from now on; the authorization rules, and the routes to
    /// the app with their workload labels and app address, for the next request on every open HTTP connection too (a
    /// tightened policy must not wait for keep-alive connections between sidecars to end). A changed app address gets
    /// new app clusters; the old ones' idle connections are closed.
    /// </summary>
    public void Update(MeshConfig config)
    {
        var previous = Volatile.Read(ref _settings);
        if (config.Inbound.AppAddress != previous.Config.Inbound.AppAddress)
        {
            var (apps, http2Apps) = (_apps, _http2Apps);
            (_apps, _http2Apps) = (new(), new());
            foreach (var app in apps.Values.Concat(http2Apps.Values))
            {
                foreach (var endpoint in app.Endpoints)
                {
                    endpoint.Pool?.Clear();
                    endpoint.Http2Pool?.Clear();
                }
            }
        }

        Volatile.Write(ref _settings, new InboundSettings(config, _localIdentity?.Value));
    }

    public async Task HandleAsync(SocketPipe connection, Socket socket)
    {
        var settings = Volatile.Read(ref _settings);
        var config = settings.Config;
        var original = OriginalDestination.TryGet(socket);
        if (original is null)
        {
            return; // not redirected here: nowhere to forward to
        }

        var port = original.Port;
        var portText = port.ToString(CultureInfo.InvariantCulture);
        _listenerMetrics.Opened.Increment();
        _listenerMetrics.Active.Increment();
        TlsConnection? tls = null;
        try
        {
            // An opaque port is never sniffed for HTTP, but a client sidecar's TLS is still recognized there, so opaque
            // traffic between sidecars keeps mutual TLS (and passes strict mode). A plain server-first protocol waits
            // detect_timeout once, as Istio's TLS inspector makes it wait.
            var detected = await ProtocolDetector.DetectAsync(connection.Input, config.DetectTimeout).ConfigureAwait(false);
            if (detected.Protocol != DetectedProtocol.Tls && config.OpaquePorts.Contains(port))
            {
                detected = DetectionResult.Opaque(OpaqueReason.OpaquePort);
            }

            IDuplexPipe transport = connection;
            IDisposable owner = connection;
            PeerIdentity peer;
            if (detected.Protocol == DetectedProtocol.Tls)
            {
                try
                {
                    tls = await TlsConnection.AcceptAsync(connection, connection, _tls, TlsDefaults.HandshakeTimeout).ConfigureAwait(false);
                }
                catch (Exception ex) when (TlsHandshake.IsHandshakeFailure(ex))
                {
                    _mesh.InboundDenied.WithLabels("unknown", portText, "tls_handshake").Increment();
                    _handshakeLog?.Failed(Name, socket.RemoteEndPoint, ex);
                    return;
                }

                transport = tls;
                owner = tls;
                peer = tls.PeerIdentity;
            }
            else
            {
                peer = PeerIdentity.None(detected.Reason switch
                {
                    OpaqueReason.Timeout => NoTlsReason.DetectTimeout,
                    OpaqueReason.OpaquePort => NoTlsReason.OpaquePort,
                    _ => NoTlsReason.Plaintext,
                });
                if (config.Inbound.Mode == MeshInboundMode.Strict)
                {
                    _mesh.InboundDenied.WithLabels("unknown", portText, "plaintext").Increment();
                    return; // strict: mutual TLS or nothing
                }
            }

            // HTTP rules are checked on every request of the connection, not just the first: the connection is
            // served by the HTTP forwarder (HTTP/1.1 or HTTP/2, whichever the peer speaks) with the policy as its
            // per-request check. Anything else is judged as TCP, where a deny rule's method and path conditions
            // hold: HTTP sent late (after detect_timeout) or in another framing never escapes a path denial.
            // A client sidecar names the protocol inside by ALPN (Istio's tokens): HTTP is served per request (counted
            // with reporter="destination" and checked against the policy), opaque bytes are never sniffed. Without a
            // name, the bytes are looked at only when a rule needs HTTP.
            var inner = InnerProtocol(config, tls, port);
            if (inner is DetectedProtocol.Http1 or DetectedProtocol.Http2)
            {
                _mesh.InboundConnections.WithLabels(peer.Principal, _localIdentity?.Value ?? "unknown", peer.SecurityPolicy, portText).Increment();
                await ServeHttpAsync(settings, inner, transport, owner, downstreamTls: true, socket, peer, port).ConfigureAwait(false);
                return;
            }

            if (settings.Authorization.NeedsHttp && inner == DetectedProtocol.NeedMore)
            {
                var protocol = (await ProtocolDetector.DetectAsync(transport.Input, config.DetectTimeout).ConfigureAwait(false)).Protocol;
                if (protocol is DetectedProtocol.Http1 or DetectedProtocol.Http2)
                {
                    _mesh.InboundConnections.WithLabels(peer.Principal, _localIdentity?.Value ?? "unknown", peer.SecurityPolicy, portText).Increment();
                    await ServeHttpAsync(settings, protocol, transport, owner, downstreamTls: tls is not null, socket, peer, port).ConfigureAwait(false);
                    return;
                }
            }

            if (settings.Authorization.EvaluateConnection(peer, port) == AuthorizationDecision.Deny)
            {
                _mesh.InboundDenied.WithLabels(peer.Principal, portText, "authorization").Increment();
                return; // TCP: close
            }

            _mesh.InboundConnections.WithLabels(peer.Principal, _localIdentity?.Value ?? "unknown", peer.SecurityPolicy, portText).Increment();
            var app = AppCluster(config, port);

            // A client sidecar that agreed on Istio's TCP metadata exchange sends its workload first (and gets ours).
            byte[] metadata = tls is not null && TcpPeerExchanger.Negotiated(tls) ? await settings.TcpExchange.ExchangeAsync(transport).ConfigureAwait(false) : [];
            var streamMetrics = _metrics.TcpStream(Name, app.Name, "destination", settings.LocalLabels, _peerCache.Resolve(metadata, peer.Principal, peer.SecurityPolicy));
            await TcpForwarder.ForwardAsync(transport, owner, app, Name, TimeSpan.FromHours(1), _listenerMetrics, _metrics, _tracker, (socket.RemoteEndPoint as IPEndPoint)?.Address, _telemetry(), streamMetrics).ConfigureAwait(false);
        }
        finally
        {
            if (tls is not null)
            {
                await tls.CloseAsync(Listener.SendDrainTimeout).ConfigureAwait(false);
            }

            _listenerMetrics.Active.Decrement();
            _listenerMetrics.Closed.Increment();
        }
    }

    /// <summary>
    /// The protocol a client sidecar named by ALPN: HTTP/1.1, HTTP/2, opaque (also for any port in opaque_ports), or
    /// <see cref="DetectedProtocol.NeedMore"/> when nothing was named (plain text, or an older peer's <c>http/1.1</c>).
    /// </summary>
    private static DetectedProtocol InnerProtocol(MeshConfig config, TlsConnection? tls, int port)
    {
        if (config.OpaquePorts.Contains(port))
        {
            return DetectedProtocol.Opaque;
        }

        if (tls is null)
        {
            return DetectedProtocol.NeedMore;
        }

        var alpn = tls.NegotiatedProtocol.Protocol.Span;
        return alpn.SequenceEqual(Http11Token) ? DetectedProtocol.Http1
            : alpn.SequenceEqual(Http2Token) ? DetectedProtocol.Http2
            : alpn.SequenceEqual(TcpToken) || alpn.SequenceEqual(TcpExchangeToken) ? DetectedProtocol.Opaque
            : DetectedProtocol.NeedMore;
    }

    private static readonly byte[] Http11Token = System.Text.Encoding.ASCII.GetBytes(MeshAlpn.Http11);
    private static readonly byte[] Http2Token = System.Text.Encoding.ASCII.GetBytes(MeshAlpn.Http2);
    private static readonly byte[] TcpToken = System.Text.Encoding.ASCII.GetBytes(MeshAlpn.Tcp);
    private static readonly byte[] TcpExchangeToken = System.Text.Encoding.ASCII.GetBytes(MeshAlpn.TcpWithPeerExchange);

    /// <summary>
    /// Serves an inbound HTTP connection to the local app, checking every request against the policy. The app sees
    /// X-Forwarded-Proto https for a peer that came over mutual TLS (<paramref name="downstreamTls"/>), http for plain text.
    /// </summary>
    private async Task ServeHttpAsync(InboundSettings settings, DetectedProtocol protocol, IDuplexPipe transport, IDisposable owner, bool downstreamTls, Socket socket, PeerIdentity peer, int port)
    {
        var client = (socket.RemoteEndPoint as IPEndPoint)?.Address;
        ITrackedConnection http;
        Func<Task> run;
        if (protocol == DetectedProtocol.Http2)
        {
            var h2 = new Http2ServerConnection(transport, owner, InboundHttpListener(settings, port, http2: true), _metrics, client, downstreamTls, telemetry: _telemetry(), currentRouting: RoutingSource(port, http2: true)) { Peer = peer };
            (http, run) = (h2, h2.RunAsync);
        }
        else
        {
            var h1 = new Http1ServerConnection(transport, owner, InboundHttpListener(settings, port, http2: false), _metrics, client, downstreamTls, RoutingSource(port, http2: false), _telemetry()) { Peer = peer };
            (http, run) = (h1, h1.RunAsync);
        }

        // Inline rather than a shared helper: one more async frame would cost every connection 136 bytes.
        var id = _tracker.Add(http);
        try
        {
            await run().ConfigureAwait(false);
        }
        finally
        {
            _tracker.Remove(id);
        }
    }

    /// <summary>
    /// The routes to the app on <paramref name="port"/> as the current settings have them, as a delegate made once per
    /// port and protocol (not per connection): what an open connection reads at each request.
    /// </summary>
    private Func<HttpRouting?> RoutingSource(int port, bool http2) => _routingSources.GetOrAdd((port, http2), static (key, handler) => () =>
        handler.InboundHttpListener(Volatile.Read(ref handler._settings), key.Port, key.Http2).Http, this);

    /// <summary>
    /// The local app on <paramref name="port"/>: a one-endpoint cluster, made once per port. The HTTP/2 variant
    /// speaks HTTP/2 with prior knowledge to the app, as the peer did (a gRPC server takes nothing else).
    /// </summary>
    private Cluster AppCluster(MeshConfig config, int port, bool http2 = false) => (http2 ? _http2Apps : _apps).GetOrAdd(port, static (p, state) =>
    {
        var (self, appAddress, h2) = state;
        var address = new IPEndPoint(IPAddress.Parse(appAddress), p);
        var endpoint = new Endpoint(address.ToString(), address) { Pool = new ConnectionPool(64), Http2Pool = h2 ? new Http2ConnectionPool() : null };
        var name = "inbound|" + p.ToString(CultureInfo.InvariantCulture);
        return new Cluster(name, [endpoint], PickerRegistry.Create(PickerRegistry.DefaultName, [endpoint], PickerOptions.Default), new ClusterSettings(), new ClusterMetrics(self._metrics, name));
    }, (this, config.Inbound.AppAddress, http2));

    /// <summary>
    /// The HTTP view of the local app on <paramref name="port"/>, made once per port and protocol: one catch-all route
    /// to the app in the protocol the peer spoke, and, on HTTP/2, a route first for the HTTP/1.1 requests a client
    /// sidecar carried as HTTP/2 streams (marked with their original protocol): they reach the app as HTTP/1.1, as its
    /// client sent them, without the mark.
    /// </summary>
    private ListenerRuntime InboundHttpListener(InboundSettings settings, int port, bool http2) => (http2 ? settings.Http2Listeners : settings.Http1Listeners).GetOrAdd(port, static (p, state) =>
    {
        var (self, settings, h2) = state;
        var cluster = self.AppCluster(settings.Config, p, h2);
        var metrics = new RouteMetrics(self._metrics.Requests, Name, "inbound", cluster.Name, reporter: "destination", settings.LocalLabels);
        var definitions = new List<RouteDefinition>();
        var runtimes = new List<(Cluster Cluster, FieldChanges? Changes)>();
        if (h2)
        {
            var marked = new HeaderMatchDefinition(MeshHeaders.OriginalProtocol, Proxy.Routing.HeaderMatchKind.Present);
            definitions.Add(new RouteDefinition { Name = "inbound-http1", Match = new RouteMatchDefinition { Headers = [marked] }, Cluster = cluster.Name });
            runtimes.Add((self.AppCluster(settings.Config, p, http2: false), UnmarkHttp1AndExchange));
        }

        definitions.Add(new RouteDefinition { Name = "inbound", Cluster = cluster.Name });
        runtimes.Add((cluster, UnmarkExchange));
        var table = RouteTable.Build(definitions);
        var actions = new RouteRuntime[definitions.Count];
        for (var i = 0; i < actions.Length; i++)
        {
            actions[i] = new RouteRuntime(table.Routes[i], [runtimes[i].Cluster], null, [metrics])
            {
                RequestChanges = runtimes[i].Changes,
                ResponseChanges = settings.ExchangeOnResponse,
            };
        }

        var routing = new HttpRouting(table, actions, Http1Limits.Default, metrics) { Peers = self._peers };

        // Every request passes the policy first (the peer's identity is on the exchange); a denial never reaches the app.
        // The filter reads the newest policy per request, so a reload tightens open connections at once.
        routing.Filters = new HttpFilterChain([new AuthorizationFilter(self._currentPolicy, p, self._mesh.InboundDenied)]);
        var config = new ListenerConfig { Name = Name, Address = new HostPort("0.0.0.0", p), Protocol = ListenerProtocol.Http };
        return new ListenerRuntime(config, null, self._listenerMetrics, routing);
    }, (this, settings, http2));

    /// <summary>Removes the client sidecar's peer metadata (read for the metrics) before the app sees the request.</summary>
    private static readonly FieldChanges? UnmarkExchange = FieldChanges.Compile(
        [new HeaderChangesConfig { Remove = new ConfigList<string>([PeerMetadata.HeaderName, PeerMetadata.IdHeaderName]) }], forResponse: false);

    /// <summary>Removes the original-protocol mark too.</summary>
    private static readonly FieldChanges? UnmarkHttp1AndExchange = FieldChanges.Compile(
        [new HeaderChangesConfig { Remove = new ConfigList<string>([MeshHeaders.OriginalProtocol, PeerMetadata.HeaderName, PeerMetadata.IdHeaderName]) }], forResponse: false);

}
