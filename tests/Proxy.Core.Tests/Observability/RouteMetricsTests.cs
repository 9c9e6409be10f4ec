using Proxy.Forwarding;
using Proxy.Observability;
using Proxy.Observability.Metrics;

namespace Proxy.Tests.Observability;

public class RouteMetricsTests
{
    [Fact]
    public void Get_StatusZero_OwnSeriesLabelledZero()
    {
        // Status 0 (no response: the client went away) must not share a slot with an in-range code.
        var registry = new MetricsRegistry();
        var metrics = new RouteMetrics(new RequestMetricFamilies(registry), "web", "api", "backend");
        RequestSeries none = metrics.Get(0, ResponseFlag.DownstreamDisconnect);
        RequestSeries continued = metrics.Get(100, ResponseFlag.DownstreamDisconnect);
        Assert.NotSame(none, continued);
        Assert.Same(none, metrics.Get(0, ResponseFlag.DownstreamDisconnect));
        none.Record(1, 10, 0);

        string text = registry.Render();
        Assert.Contains(
            "istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\","
            + "source_workload=\"unknown\",source_workload_namespace=\"unknown\",source_principal=\"unknown\",source_app=\"unknown\",source_version=\"unknown\","
            + "destination_workload=\"unknown\",destination_workload_namespace=\"unknown\",destination_principal=\"unknown\",destination_app=\"unknown\",destination_version=\"unknown\","
            + "destination_service=\"backend\",destination_service_name=\"backend\",destination_service_namespace=\"unknown\","
            + "request_protocol=\"http\",response_code=\"0\",grpc_response_status=\"\",response_flags=\"DC\",connection_security_policy=\"unknown\"} 1", text);
    }

    [Fact]
    public void Get_GrpcStatus_OwnSeriesPerStatus_UnknownCodesShareOne()
    {
        // grpc_response_status comes from the call's trailers: OK and UNAVAILABLE under the same HTTP 200 are two
        // series; codes past the 16 canonical ones share one, so a server cannot grow the label without bound.
        var registry = new MetricsRegistry();
        var metrics = new RouteMetrics(new RequestMetricFamilies(registry), "web", "api", "backend");
        RequestSeries ok = metrics.Get(200, ResponseFlag.None, grpc: true, grpcStatus: 0);
        RequestSeries unavailable = metrics.Get(200, ResponseFlag.None, grpc: true, grpcStatus: 14);
        RequestSeries none = metrics.Get(200, ResponseFlag.None, grpc: true);
        Assert.NotSame(ok, unavailable);
        Assert.NotSame(ok, none);
        Assert.Same(ok, metrics.Get(200, ResponseFlag.None, grpc: true, grpcStatus: 0));
        Assert.Same(metrics.Get(200, ResponseFlag.None, grpc: true, grpcStatus: 17), metrics.Get(200, ResponseFlag.None, grpc: true, grpcStatus: 99));
        ok.Record(1, 10, 10);
        unavailable.Record(1, 10, 10);
        unavailable.Record(1, 10, 10);

        string text = registry.Render();
        Assert.Contains("request_protocol=\"grpc\",response_code=\"200\",grpc_response_status=\"0\",response_flags=\"-\",connection_security_policy=\"unknown\"} 1", text);
        Assert.Contains("request_protocol=\"grpc\",response_code=\"200\",grpc_response_status=\"14\",response_flags=\"-\",connection_security_policy=\"unknown\"} 2", text);
    }

    [Fact]
    public void ForPeer_SourceReporter_LocalWorkloadAsSourcePeerAsDestination_OneSeriesPerPeer()
    {
        var registry = new MetricsRegistry();
        var local = new WorkloadLabels("web", "shop", "spiffe://mesh.local/ns/shop/sa/web", "web", "v1");
        var metrics = new RouteMetrics(new RequestMetricFamilies(registry), "mesh-outbound", "api", "api.shop.svc.cluster.local", "source", local,
            ServiceLabels.Of("api.shop.svc.cluster.local"));
        var cache = new PeerMetadataCache();
        var api = new WorkloadLabels("api-v2", "shop", "spiffe://mesh.local/ns/shop/sa/api", "api", "v2");
        byte[] sent = System.Text.Encoding.ASCII.GetBytes(PeerMetadata.Encode(api));
        var peer = cache.Resolve(sent, "spiffe://mesh.local/ns/shop/sa/api", "unknown");

        Assert.Same(peer, cache.Resolve(sent, "spiffe://mesh.local/ns/shop/sa/api", "unknown")); // interned: found by bytes
        Assert.Same(metrics.ForPeer(peer), metrics.ForPeer(peer));
        Assert.Same(metrics, metrics.ForPeer(null));
        metrics.ForPeer(peer).Get(200, ResponseFlag.None).Record(1, 10, 20);

        string text = registry.Render();
        Assert.Contains(
            "istio_requests_total{reporter=\"source\",listener=\"mesh-outbound\",route=\"api\","
            + "source_workload=\"web\",source_workload_namespace=\"shop\",source_principal=\"spiffe://mesh.local/ns/shop/sa/web\",source_app=\"web\",source_version=\"v1\","
            + "destination_workload=\"api-v2\",destination_workload_namespace=\"shop\",destination_principal=\"spiffe://mesh.local/ns/shop/sa/api\",destination_app=\"api\",destination_version=\"v2\","
            + "destination_service=\"api.shop.svc.cluster.local\",destination_service_name=\"api\",destination_service_namespace=\"shop\","
            + "request_protocol=\"http\",response_code=\"200\",grpc_response_status=\"\",response_flags=\"-\",connection_security_policy=\"unknown\"} 1", text);
    }

    [Fact]
    public void ForPeer_DestinationReporter_PeerWithoutMetadata_NamespaceFromItsSpiffeId()
    {
        var registry = new MetricsRegistry();
        var local = new WorkloadLabels("api", "shop", "spiffe://mesh.local/ns/shop/sa/api", "api", "v1");
        var metrics = new RouteMetrics(new RequestMetricFamilies(registry), "mesh-inbound", "inbound", "inbound|8080", "destination", local);
        var peer = new PeerMetadataCache().Resolve([], "spiffe://mesh.local/ns/front/sa/web", "mutual_tls");
        metrics.ForPeer(peer).Get(200, ResponseFlag.None).Record(1, 10, 20);

        string text = registry.Render();
        Assert.Contains("source_workload=\"unknown\",source_workload_namespace=\"front\",source_principal=\"spiffe://mesh.local/ns/front/sa/web\"", text);
        Assert.Contains("destination_workload=\"api\",destination_workload_namespace=\"shop\"", text);
        Assert.Contains("connection_security_policy=\"mutual_tls\"", text);
    }

    [Fact]
    public void New_SmallPerRoute_SeriesMadeOnlyForWhatIsSeen()
    {
        // Every (route, cluster) and every peer of a sidecar has one: a slot per possible (status, flag, protocol) was
        // 60 KiB each, 120 MB of a 2,000-route configuration. Only the series actually seen may take room.
        var registry = new MetricsRegistry();
        var families = new RequestMetricFamilies(registry);
        new RouteMetrics(families, "web", "warm", "backend").Get(200, ResponseFlag.None).Record(1, 1, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var metrics = new RouteMetrics(families, "web", "api", "backend");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 1024, $"{allocated} bytes for one route's metrics before any request");
        Assert.Same(metrics.Get(200, ResponseFlag.None), metrics.Get(200, ResponseFlag.None));
        Assert.NotSame(metrics.Get(200, ResponseFlag.None), metrics.Get(200, ResponseFlag.None, grpc: true));
        Assert.NotSame(metrics.Get(503, ResponseFlag.None), metrics.Get(503, ResponseFlag.UpstreamReset));
    }
}
