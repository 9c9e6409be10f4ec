using System.Net;
using Proxy.Configuration;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Runtime;
using Proxy.Tls;
using Proxy.Upstream;

namespace Proxy.Outbound;

/// <summary>
/// Compiles the outbound services of a sidecar: for each, the opaque-traffic cluster and the HTTP routes, with the
/// same compiler as an edge listener's (so retries, timeouts, splits, faults, mirrors and per-request balancing all
/// apply between services). A cluster used by meshed HTTP traffic is made once per (identity, upstream protocol):
/// its own endpoints and pools, since a connection is bound to the ALPN and peer identity it was made with.
/// </summary>
internal sealed class MeshServiceBuilder(
    ProxyConfig config, IReadOnlyDictionary<string, Cluster> clusters, CertificateSource workload, TrustBundle meshCa, ProxyMetrics metrics, WorkloadLabels local, PeerMetadataCache peers,
    MeshServiceBuilder.VariantSet? previous = null)
{
    /// <summary>
    /// The cluster variants one configuration made, each with the cluster configuration it was made from, so the next
    /// configuration keeps those whose cluster did not change (their pooled connections and outlier state with them).
    /// </summary>
    public sealed class VariantSet
    {
        internal readonly Dictionary<(string Cluster, string? Identity, bool Http2), (ClusterConfig Config, Cluster Cluster)> Entries = new();

        /// <summary>Every variant.</summary>
        public Cluster[] Clusters { get; private set; } = [];

        internal void Add((string, string?, bool) key, ClusterConfig config, Cluster cluster)
        {
            Entries[key] = (config, cluster);
            Clusters = [.. Clusters, cluster];
        }

        /// <summary>Gives back the idle connections of every variant <paramref name="next"/> does not keep.</summary>
        public void RetireAllBut(VariantSet next)
        {
            foreach (var (_, cluster) in Entries.Values)
            {
                if (Array.IndexOf(next.Clusters, cluster) >= 0)
                {
                    continue;
                }

                foreach (var endpoint in cluster.Endpoints)
                {
                    if (endpoint.HasPool)
                    {
                        endpoint.Pool.Clear();
                    }

                    endpoint.Http2Pool?.Clear();
                }
            }
        }
    }

    /// <summary>Istio's metadata exchange: this workload's metadata on every request, the server's read from (and removed from) the response.</summary>
    private readonly HeaderChangesConfig _exchangeOnRequest = new()
    {
        Set = new ConfigList<HeaderValueConfig>([
            new HeaderValueConfig { Name = PeerMetadata.HeaderName, Value = PeerMetadata.Encode(local) },
            new HeaderValueConfig { Name = PeerMetadata.IdHeaderName, Value = PeerMetadata.Id(local) },
        ]),
    };

    private static readonly HeaderChangesConfig ExchangeOnResponse = new()
    {
        Remove = new ConfigList<string>([PeerMetadata.HeaderName, PeerMetadata.IdHeaderName]),
    };

    /// <summary>This workload's side of Istio's TCP metadata exchange, for opaque traffic to other sidecars.</summary>
    private readonly TcpPeerExchanger _tcpExchange = new(local);

    /// <summary>Every variant made (or kept) for this configuration (the heartbeat expires their ejections, sweeps their pools).</summary>
    public VariantSet Variants { get; } = new();

    /// <summary>The service, or null when its address is not an IP literal (a host name can never be an original destination) or its cluster is unknown (validation names it).</summary>
    public MeshService? Build(MeshServiceConfig service)
    {
        if (!IPAddress.TryParse(service.Address.Host, out _) || !clusters.TryGetValue(service.Cluster, out var cluster))
        {
            return null;
        }

        SpiffeId? identity = service.Identity is { } text ? SpiffeId.Parse(text) : null;

        // Opaque traffic: the cluster's own endpoints (and their load state), with mTLS to this service's identity.
        var endpoints = new Endpoint[cluster.Endpoints.Count];
        for (var i = 0; i < endpoints.Length; i++)
        {
            endpoints[i] = cluster.Endpoints[i];
        }

        // Opaque traffic to a sidecar offers Istio's TCP metadata exchange first, plain opaque second (a peer without it).
        var tls = identity is null ? null : Policy(identity, MeshAlpn.TcpWithPeerExchange, MeshAlpn.Tcp);
        var tcp = new Cluster(cluster.Name, endpoints, PickerRegistry.Create(PickerRegistry.DefaultName, endpoints, PickerOptions.Default), cluster.Settings with { Tls = tls }, cluster.Metrics);
        var http1 = service.Protocol is MeshServiceProtocol.Auto or MeshServiceProtocol.Http ? Routing(service, identity, http2: false) : null;
        var http2 = service.Protocol != MeshServiceProtocol.Tcp ? Routing(service, identity, http2: true) : null;
        var serviceLabels = ServiceLabels.Of(service.Host ?? service.Cluster);
        var principal = identity?.Value ?? WorkloadLabels.UnknownValue;
        var tcpMetrics = metrics.TcpStream(OutboundHandler.Name, cluster.Name, "source", local, peers.Resolve([], principal, WorkloadLabels.UnknownValue), serviceLabels);

        // The server sidecar's workload, when its TLS agreed on the exchange: the connection is counted under it.
        async ValueTask<TcpStreamMetrics?> AfterHandshake(TlsConnection connection)
        {
            if (!TcpPeerExchanger.Negotiated(connection) || await _tcpExchange.ExchangeAsync(connection).ConfigureAwait(false) is not { Length: > 0 } metadata)
            {
                return null;
            }

            return metrics.TcpStream(OutboundHandler.Name, cluster.Name, "source", local, peers.Resolve(metadata, principal, WorkloadLabels.UnknownValue), serviceLabels);
        }

        return new MeshService(service.Address.ToString(), service.Protocol, tcp, tcpMetrics, identity, http1, http2) { TcpAfterHandshake = identity is null ? null : AfterHandshake };
    }

    /// <summary>
    /// The service's routes (or one catch-all route to its cluster) as the virtual host '*' of a listener of its own,
    /// for an app speaking HTTP/2 (<paramref name="http2"/>) or HTTP/1.1. HTTP/1.1 to a meshed destination travels as
    /// HTTP/2 streams (marked with its original protocol) unless the service says otherwise; an upgrade (WebSocket)
    /// cannot, and keeps an HTTP/1.1 connection of its own.
    /// </summary>
    private ListenerRuntime Routing(MeshServiceConfig service, SpiffeId? identity, bool http2)
    {
        var name = service.Address.ToString();
        bool multiplex = !http2 && identity is not null && service.MultiplexHttp1;
        var routes = service.Routes.Count > 0 ? service.Routes : [new RouteConfig { Name = name, Cluster = service.Cluster }];
        var variants = new Dictionary<string, Cluster>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            Add(variants, route.Cluster, identity, http2 || multiplex);
            Add(variants, route.Mirror?.Cluster, identity, http2 || multiplex);
            foreach (var split in route.Split)
            {
                Add(variants, split.Cluster, identity, http2 || multiplex);
            }
        }

        var onRequest = _exchangeOnRequest;
        if (multiplex)
        {
            var upgradeCluster = service.Cluster + "|http1";
            variants[upgradeCluster] = Variant(service.Cluster, identity, http2: false);
            routes = [UpgradeRoute(name, upgradeCluster), .. routes];
            onRequest = onRequest with { Set = new ConfigList<HeaderValueConfig>([.. onRequest.Set, new HeaderValueConfig { Name = MeshHeaders.OriginalProtocol, Value = "HTTP/1.1" }]) };
        }

        var host = new VirtualHostConfig
        {
            Name = name,
            Domains = new ConfigList<string>(["*"]),
            Routes = new ConfigList<RouteConfig>(routes.ToArray()),
            Retries = service.Retries ?? MeshServiceConfig.DefaultRetries,
            Timeout = service.Timeout,
        };
        var listener = new ListenerConfig
        {
            Name = OutboundHandler.Name,
            Address = service.Address,
            Protocol = ListenerProtocol.Http,
            VirtualHosts = new ConfigList<VirtualHostConfig>([host]),
            RequestHeaders = onRequest,
            ResponseHeaders = ExchangeOnResponse,
        };

        // Every request to the service is labelled with it (destination_service), whichever cluster its route chose.
        var serviceLabels = ServiceLabels.Of(service.Host ?? service.Cluster);
        var routing = SnapshotCompiler.CompileRouting(listener, variants, metrics,
            (route, _) => new RouteMetrics(metrics.Requests, OutboundHandler.Name, route, serviceLabels.Host, "source", local, serviceLabels));
        routing.Peers = new PeerExchange(peers, fromRequest: false, identity?.Value);
        return new ListenerRuntime(listener, null, new ListenerMetrics(metrics, OutboundHandler.Name), routing);
    }

    /// <summary>A request asking to switch protocols (RFC 9110 7.8) goes over HTTP/1.1: an HTTP/2 stream cannot carry the switch.</summary>
    private static RouteConfig UpgradeRoute(string service, string cluster) => new()
    {
        Name = service + "|upgrade",
        Match = new RouteMatchConfig { Headers = new ConfigList<HeaderMatchConfig>([new HeaderMatchConfig { Name = "upgrade", Kind = HeaderMatchKind.Present }]) },
        Cluster = cluster,
    };

    private void Add(Dictionary<string, Cluster> variants, string? name, SpiffeId? identity, bool http2)
    {
        if (name is not null && !variants.ContainsKey(name) && config.Clusters.Any(c => c.Name == name))
        {
            variants[name] = Variant(name, identity, http2);
        }
    }

    /// <summary>The cluster <paramref name="name"/> as meshed traffic to <paramref name="identity"/> reaches it, made once.</summary>
    private Cluster Variant(string name, SpiffeId? identity, bool http2)
    {
        var key = (name, identity?.Value, http2);
        if (Variants.Entries.TryGetValue(key, out var made))
        {
            return made.Cluster;
        }

        var clusterConfig = config.Clusters.First(c => c.Name == name);
        if (previous is not null && previous.Entries.TryGetValue(key, out var kept) && kept.Config == clusterConfig)
        {
            Variants.Add(key, clusterConfig, kept.Cluster); // unchanged: same connections, same outlier state
            return kept.Cluster;
        }

        // Active health checks stay with the edge cluster: a meshed variant relies on outlier detection.
        var meshConfig = clusterConfig with { Protocol = http2 ? ClusterProtocol.Http2 : ClusterProtocol.Http1, HealthCheck = null, Tls = null };

        // A plain (unmeshed) destination keeps whatever TLS its cluster has of its own.
        var tls = identity is null ? clusters[name].Settings.Tls : Policy(identity, http2 ? MeshAlpn.Http2 : MeshAlpn.Http11);
        var variant = SnapshotCompiler.CompileCluster(meshConfig, null, metrics, tls, new UpstreamEventLog(null, name));
        Variants.Add(key, clusterConfig, variant);
        return variant;
    }

    private TlsClientPolicy Policy(SpiffeId identity, params string[] alpn) =>
        new(null, meshCa, workload, alpn, identity, protocols: TlsDefaults.Mesh);
}
