using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;
using Proxy.Configuration;
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
/// The outbound side of a sidecar: the app's connection arrives here by iptables REDIRECT; its
/// original destination picks a configured service (load-balanced over the service's cluster,
/// with mutual TLS from the workload certificate verifying the server's SPIFFE ID), or else it
/// passes through to the original destination as opaque TCP.
/// </summary>
public sealed class OutboundHandler : IConnectionHandler
{
    /// <summary>Listener name used in metrics.</summary>
    public const string Name = "mesh-outbound";

    private readonly FrozenDictionary<IPEndPoint, MeshService> _services;
    private readonly string _localPrincipal;
    private readonly MeshMetrics _mesh;
    private readonly ProxyMetrics _metrics;
    private readonly ListenerMetrics _listenerMetrics;
    private readonly ClusterMetrics _passthroughMetrics;
    private readonly ConnectionTracker _tracker;

    public OutboundHandler(MeshConfig config, IReadOnlyDictionary<string, Cluster> clusters, CertificateSource workload, TrustBundle meshCa, MeshMetrics mesh, ProxyMetrics metrics, ConnectionTracker tracker)
    {
        var services = new Dictionary<IPEndPoint, MeshService>();
        foreach (var service in config.Outbound.Services)
        {
            if (!IPAddress.TryParse(service.Address.Host, out var ip) || !clusters.TryGetValue(service.Cluster, out var cluster))
            {
                continue; // validation names unknown clusters; host names cannot match an original destination
            }

            SpiffeId? identity = service.Identity is { } text ? SpiffeId.Parse(text) : null;
            var endpoints = new Endpoint[cluster.Endpoints.Count];
            for (var i = 0; i < endpoints.Length; i++)
            {
                endpoints[i] = cluster.Endpoints[i];
            }

            // The same endpoints (and their load state), with mTLS to this service's identity.
            var tls = identity is null ? null : new TlsClientPolicy(null, meshCa, workload, ["http/1.1"], identity, protocols: TlsDefaults.Mesh);
            var meshCluster = new Cluster(cluster.Name, endpoints, PickerRegistry.Create(PickerRegistry.DefaultName, endpoints, PickerOptions.Default), cluster.Settings with { Tls = tls }, cluster.Metrics);
            services[new IPEndPoint(ip, service.Address.Port)] = new MeshService(service.Address.ToString(), meshCluster, identity);
        }

        _services = services.ToFrozenDictionary();
        _localPrincipal = workload.Current.SpiffeId?.Value ?? "unknown";
        _mesh = mesh;
        _metrics = metrics;
        _listenerMetrics = new ListenerMetrics(metrics, Name);
        _passthroughMetrics = new ClusterMetrics(metrics, "passthrough");
        _tracker = tracker;
    }

    public async Task HandleAsync(SocketConnection connection, Socket socket)
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
            Cluster cluster;
            if (_services.TryGetValue(Normalise(original), out var service))
            {
                cluster = service.Cluster;
                _mesh.OutboundConnections.WithLabels(_localPrincipal, service.Identity?.Value ?? "unknown", service.Name, service.Identity is null ? "none" : "mutual_tls").Increment();
            }
            else
            {
                var endpoint = new Endpoint(original.ToString(), original);
                cluster = new Cluster("passthrough", [endpoint], PickerRegistry.Create(PickerRegistry.DefaultName, [endpoint], PickerOptions.Default), new ClusterSettings(), _passthroughMetrics);
                _mesh.OutboundConnections.WithLabels(_localPrincipal, "unknown", "passthrough", "none").Increment();
            }

            await TcpForwarder.ForwardAsync(connection, cluster, Name, TimeSpan.FromHours(1), _listenerMetrics, _metrics, _tracker, null).ConfigureAwait(false);
        }
        finally
        {
            _listenerMetrics.Active.Decrement();
            _listenerMetrics.Closed.Increment();
        }
    }

    private static IPEndPoint Normalise(IPEndPoint address) =>
        address.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(address.Address.MapToIPv4(), address.Port) : address;

    private static bool IsSelf(IPEndPoint original, Socket socket) =>
        socket.LocalEndPoint is IPEndPoint local && local.Port == original.Port && local.Address.Equals(original.Address);
}
