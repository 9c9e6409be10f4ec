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
using Pipelines.Sockets.Unofficial;
using Proxy.Configuration;
using Proxy.Detection;
using Proxy.Interception;
using Proxy.LoadBalancing;
using Proxy.Observability;
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
    private readonly MeshConfig _config;
    private readonly TlsServerPolicy _tls;
    private readonly AuthorizationPolicy _authorization;
    private readonly SpiffeId? _localIdentity;
    private readonly MeshMetrics _mesh;
    private readonly ProxyMetrics _metrics;
    private readonly ListenerMetrics _listenerMetrics;
    private readonly ConnectionTracker _tracker;
    private readonly ConcurrentDictionary<int, Cluster> _apps = new();

    /// <summary>Listener name used in metrics.</summary>
    public const string Name = "mesh-inbound";

    public InboundHandler(MeshConfig config, CertificateSource workload, TrustBundle meshCa, MeshMetrics mesh, ProxyMetrics metrics, ConnectionTracker tracker)
    {
        _config = config;
        _tls = new TlsServerPolicy([(workload, [])], meshCa, requireClientCert: true, ["http/1.1"], TlsDefaults.Mesh);
        _authorization = new AuthorizationPolicy(config.Inbound.Authorization);
        _localIdentity = workload.Current.SpiffeId;
        _mesh = mesh;
        _metrics = metrics;
        _listenerMetrics = new ListenerMetrics(metrics, Name);
        _tracker = tracker;
    }

    public async Task HandleAsync(SocketConnection connection, Socket socket)
    {
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
            var detected = _config.OpaquePorts.Contains(port)
                ? DetectionResult.Opaque(OpaqueReason.OpaquePort)
                : await ProtocolDetector.DetectAsync(connection.Input, _config.DetectTimeout).ConfigureAwait(false);

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
                if (_config.Inbound.Mode == MeshInboundMode.Strict)
                {
                    _mesh.InboundDenied.WithLabels("unknown", portText, "plaintext").Increment();
                    return; // strict: mutual TLS or nothing
                }
            }

            // HTTP rules are checked on every request of the connection, not just the first: the
            // connection is served by the HTTP forwarder with the policy as its per-request check.
            if (_authorization.NeedsHttp
                && (await ProtocolDetector.DetectAsync(transport.Input, _config.DetectTimeout).ConfigureAwait(false)).Protocol == DetectedProtocol.Http1)
            {
                _mesh.InboundConnections.WithLabels(peer.Principal, _localIdentity?.Value ?? "unknown", peer.SecurityPolicy, portText).Increment();
                var http = new Http1ServerConnection(transport, owner, InboundHttpListener(port), _metrics, (socket.RemoteEndPoint as IPEndPoint)?.Address)
                {
                    Authorize = request => AuthorizeRequest(peer, port, portText, request),
                };
                var id = _tracker.Add(http);
                try
                {
                    await http.RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    _tracker.Remove(id);
                }

                return;
            }

            if (_authorization.Evaluate(peer, port, null, null) == AuthorizationDecision.Deny)
            {
                _mesh.InboundDenied.WithLabels(peer.Principal, portText, "authorization").Increment();
                return; // TCP: close
            }

            _mesh.InboundConnections.WithLabels(peer.Principal, _localIdentity?.Value ?? "unknown", peer.SecurityPolicy, portText).Increment();
            await TcpForwarder.ForwardAsync(transport, owner, AppCluster(port), Name, TimeSpan.FromHours(1), _listenerMetrics, _metrics, _tracker, (socket.RemoteEndPoint as IPEndPoint)?.Address).ConfigureAwait(false);
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

    /// <summary>The local app on <paramref name="port"/>: a one-endpoint cluster, made once per port.</summary>
    private Cluster AppCluster(int port) => _apps.GetOrAdd(port, static (p, self) =>
    {
        var address = new IPEndPoint(IPAddress.Parse(self._config.Inbound.AppAddress), p);
        var endpoint = new Endpoint(address.ToString(), address) { Pool = new ConnectionPool(64) };
        var name = "inbound|" + p.ToString(CultureInfo.InvariantCulture);
        return new Cluster(name, [endpoint], PickerRegistry.Create(PickerRegistry.DefaultName, [endpoint], PickerOptions.Default), new ClusterSettings(), new ClusterMetrics(self._metrics, name));
    }, this);

    /// <summary>The policy's answer for one HTTP request (method and path become strings: mesh inbound with HTTP rules only).</summary>
    private bool AuthorizeRequest(PeerIdentity peer, int port, string portText, Http1RequestHead request)
    {
        var method = Encoding.ASCII.GetString(request.MethodBytes);
        var path = Encoding.UTF8.GetString(request.Path);
        if (_authorization.Evaluate(peer, port, method, path) == AuthorizationDecision.Allow)
        {
            return true;
        }

        _mesh.InboundDenied.WithLabels(peer.Principal, portText, "authorization").Increment();
        return false;
    }

    /// <summary>The HTTP view of the local app on <paramref name="port"/>: one catch-all route, made once per port.</summary>
    private ListenerRuntime InboundHttpListener(int port) => _httpApps.GetOrAdd(port, static (p, self) =>
    {
        var cluster = self.AppCluster(p);
        var route = RouteTable.Build([new RouteDefinition { Name = "inbound", Cluster = cluster.Name }]);
        var metrics = new RouteMetrics(self._metrics.Requests, Name, "inbound", cluster.Name, reporter: "destination");
        var routing = new HttpRouting(route, [new RouteRuntime(route.Routes[0], [cluster], null, [metrics])], Http1Limits.Default, metrics);
        var config = new ListenerConfig { Name = Name, Address = new HostPort("0.0.0.0", p), Protocol = ListenerProtocol.Http };
        return new ListenerRuntime(config, null, self._listenerMetrics, routing);
    }, this);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, ListenerRuntime> _httpApps = new();
}
