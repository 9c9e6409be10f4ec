using System.Collections.Frozen;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Proxy.Configuration;
using Proxy.Detection;
using Proxy.Forwarding;
using Proxy.Inbound;
using Proxy.Interception;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Runtime;
using Proxy.Tcp;
using Proxy.Tls;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Outbound;

/// <summary>
/// The outbound side of a sidecar: the app's connection arrives here by iptables REDIRECT; its original destination
/// picks a configured service, or else it passes through to the original destination as opaque TCP. A service's
/// HTTP traffic (declared, or detected from the app's first bytes) is served per request, with the service's routes:
/// retries, timeouts, splits and a balancing decision per request, over mutual TLS to the expected SPIFFE ID with the
/// inner protocol named by ALPN. Its other traffic is balanced once per connection and carried as bytes.
/// </summary>
public sealed class OutboundHandler : IConnectionHandler
{
    /// <summary>Listener name used in metrics.</summary>
    public const string Name = "mesh-outbound";

    /// <summary>How long a service declared <c>http</c> waits for the app's first bytes to tell HTTP/1.1 from HTTP/2 (an HTTP listener's idle timeout).</summary>
    private static readonly TimeSpan DeclaredHttpWait = TimeSpan.FromSeconds(300);

    private readonly CertificateSource _workload;
    private readonly TrustBundle _meshCa;
    private readonly PeerMetadataCache _peers;
    private readonly string _localPrincipal;
    private readonly MeshMetrics _mesh;
    private readonly ProxyMetrics _metrics;
    private readonly ListenerMetrics _listenerMetrics;
    private readonly ClusterMetrics _passthroughMetrics;
    private readonly ConnectionTracker _tracker;
    private readonly Func<RequestTelemetry> _telemetry;
    private readonly Lock _updates = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(IPEndPoint Service, bool Http2), Func<HttpRouting?>> _routingSources = new();
    private OutboundTable _table;

    /// <summary>What a configuration makes of the outbound side: services by address, and the clusters their HTTP uses.</summary>
    private sealed record OutboundTable(
        FrozenDictionary<IPEndPoint, MeshService> Services, MeshServiceBuilder.VariantSet Variants, TimeSpan DetectTimeout, IReadOnlyList<int> OpaquePorts);

    public OutboundHandler(ProxyConfig proxyConfig, MeshConfig config, IReadOnlyDictionary<string, Cluster> clusters, CertificateSource workload, TrustBundle meshCa, MeshMetrics mesh, ProxyMetrics metrics, ConnectionTracker tracker, Func<RequestTelemetry>? telemetry = null, PeerMetadataCache? peers = null)
    {
        _workload = workload;
        _meshCa = meshCa;
        _peers = peers ?? new PeerMetadataCache();
        _localPrincipal = workload.Current.SpiffeId?.Value ?? "unknown";
        _mesh = mesh;
        _metrics = metrics;
        _listenerMetrics = new ListenerMetrics(metrics, Name);
        _passthroughMetrics = new ClusterMetrics(metrics, "passthrough");
        _tracker = tracker;
        _telemetry = telemetry ?? (static () => RequestTelemetry.None);
        _table = Build(proxyConfig, config, clusters, null);
    }

    /// <summary>The clusters meshed HTTP traffic uses now, one per (cluster, identity, upstream protocol).</summary>
    public IReadOnlyList<Cluster> Clusters => Volatile.Read(ref _table).Variants.Clusters;

    /// <summary>
    /// Applies a reloaded configuration: new connections take the new services and routes at once, and an HTTP
    /// connection already open takes its service's new routes at its next request (an HTTP/2 one at its next stream),
    /// as Envoy's connections take a new RouteConfiguration; a request in flight finishes on what it began with.
    /// Which service a connection belongs to, and its protocol, stay as they were decided. A cluster variant whose cluster did not change is kept, with its
    /// pooled connections and outlier state; one that did gives back its idle connections.
    /// </summary>
    public void Update(ProxyConfig proxyConfig, MeshConfig config, IReadOnlyDictionary<string, Cluster> clusters)
    {
        lock (_updates)
        {
            var previous = _table;
            var next = Build(proxyConfig, config, clusters, previous.Variants);
            Volatile.Write(ref _table, next);
            previous.Variants.RetireAllBut(next.Variants);
        }
    }

    private OutboundTable Build(ProxyConfig proxyConfig, MeshConfig config, IReadOnlyDictionary<string, Cluster> clusters, MeshServiceBuilder.VariantSet? previous)
    {
        var local = WorkloadLabels.Local(config.Workload, _workload.Current.SpiffeId?.Value);
        var builder = new MeshServiceBuilder(proxyConfig, clusters, _workload, _meshCa, _metrics, local, _peers, previous);
        var services = new Dictionary<IPEndPoint, MeshService>();
        foreach (var service in config.Outbound.Services)
        {
            if (builder.Build(service) is { } built)
            {
                services[new IPEndPoint(IPAddress.Parse(service.Address.Host), service.Address.Port)] = built;
            }
        }

        return new OutboundTable(services.ToFrozenDictionary(), builder.Variants, config.DetectTimeout, config.OpaquePorts);
    }

    public async Task HandleAsync(SocketPipe connection, Socket socket)
    {
        var original = OriginalDestination.TryGet(socket);
        if (original is null || IsSelf(original, socket))
        {
            return; // dialled directly, not redirected: forwarding to ourselves would loop
        }

        _listenerMetrics.Opened.Increment();
        _listenerMetrics.Active.Increment();
        try
        {
            var table = Volatile.Read(ref _table);
            if (!table.Services.TryGetValue(Normalise(original), out var service))
            {
                var endpoint = new Endpoint(original.ToString(), original);
                var passthrough = new Cluster("passthrough", [endpoint], PickerRegistry.Create(PickerRegistry.DefaultName, [endpoint], PickerOptions.Default), new ClusterSettings(), _passthroughMetrics);
                _mesh.OutboundConnections.WithLabels(_localPrincipal, "unknown", "passthrough", "none").Increment();
                await TcpForwarder.ForwardAsync(connection, connection, passthrough, Name, TimeSpan.FromHours(1), _listenerMetrics, _metrics, _tracker, null, _telemetry()).ConfigureAwait(false);
                return;
            }

            _mesh.OutboundConnections.WithLabels(_localPrincipal, service.Identity?.Value ?? "unknown", service.Name, service.Identity is null ? "none" : "mutual_tls").Increment();
            var app = table.OpaquePorts.Contains(original.Port) ? DetectedProtocol.Opaque : await AppProtocolAsync(service, connection.Input, table.DetectTimeout).ConfigureAwait(false);
            var routes = app switch
            {
                DetectedProtocol.Http1 => service.Http1,
                DetectedProtocol.Http2 => service.Http2,
                _ => null,
            };
            if (routes is null)
            {
                await TcpForwarder.ForwardAsync(connection, connection, service.TcpCluster, Name, TimeSpan.FromHours(1), _listenerMetrics, _metrics, _tracker, null, _telemetry(), service.TcpMetrics, service.TcpAfterHandshake).ConfigureAwait(false);
                return;
            }

            var http2 = app == DetectedProtocol.Http2;
            await ServeHttpAsync(connection, socket, routes, http2, RoutingSource(Normalise(original), http2)).ConfigureAwait(false);
        }
        finally
        {
            _listenerMetrics.Active.Decrement();
            _listenerMetrics.Closed.Increment();
        }
    }

    /// <summary>
    /// What the app speaks on this connection, by what the service declares and what its first bytes say (peeked, not
    /// consumed): HTTP/1.1, HTTP/2, or anything else for opaque bytes. <c>auto</c> waits detect_timeout at most, so a
    /// server-first protocol never stalls.
    /// </summary>
    private static async ValueTask<DetectedProtocol> AppProtocolAsync(MeshService service, PipeReader input, TimeSpan detectTimeout)
    {
        switch (service.Protocol)
        {
            case MeshServiceProtocol.Tcp:
                return DetectedProtocol.Opaque;
            case MeshServiceProtocol.Grpc:
                return DetectedProtocol.Http2;
            case MeshServiceProtocol.Http:
                // Declared HTTP: anything but the HTTP/2 preface is served as HTTP/1.1 (which answers garbage with 400).
                var declared = await ProtocolDetector.DetectAsync(input, DeclaredHttpWait).ConfigureAwait(false);
                return declared.Protocol == DetectedProtocol.Http2 ? DetectedProtocol.Http2 : DetectedProtocol.Http1;
            default:
                return (await ProtocolDetector.DetectAsync(input, detectTimeout).ConfigureAwait(false)).Protocol;
        }
    }

    /// <summary>
    /// The current routes of the service at <paramref name="service"/> for one protocol, as a delegate made once per
    /// service and protocol (not per connection): what an open connection reads at each request.
    /// </summary>
    private Func<HttpRouting?> RoutingSource(IPEndPoint service, bool http2) => _routingSources.GetOrAdd((service, http2), static (key, handler) => () =>
        Volatile.Read(ref handler._table).Services.TryGetValue(key.Service, out var current) ? (key.Http2 ? current.Http2 : current.Http1)?.Http : null, this);

    private async Task ServeHttpAsync(SocketPipe connection, Socket socket, ListenerRuntime routes, bool http2, Func<HttpRouting?> currentRouting)
    {
        var client = (socket.RemoteEndPoint as IPEndPoint)?.Address;
        ITrackedConnection http;
        Func<Task> run;
        if (http2)
        {
            var h2 = new Http2ServerConnection(connection, connection, routes, _metrics, client, downstreamTls: false, telemetry: _telemetry(), currentRouting: currentRouting);
            (http, run) = (h2, h2.RunAsync);
        }
        else
        {
            var h1 = new Http1ServerConnection(connection, connection, routes, _metrics, client, downstreamTls: false, currentRouting, _telemetry());
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

    private static IPEndPoint Normalise(IPEndPoint address) =>
        address.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(address.Address.MapToIPv4(), address.Port) : address;

    private static bool IsSelf(IPEndPoint original, Socket socket) =>
        socket.LocalEndPoint is IPEndPoint local && local.Port == original.Port && local.Address.Equals(original.Address);
}
