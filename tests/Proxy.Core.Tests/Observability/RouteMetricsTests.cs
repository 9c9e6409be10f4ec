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
        Assert.Contains("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"0\",response_flags=\"DC\"} 1", text);
    }
}
