using Proxy.Configuration;
using Proxy.Filters;
using Proxy.Forwarding;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Runtime;

namespace Proxy.Tests.Filters;

/// <summary>The listener-wide fault (a management server's fault filter): for routes without their own, which win.</summary>
public class ListenerFaultTests
{
    private static readonly RouteMetrics Metrics = new(new RequestMetricFamilies(new MetricsRegistry()), "web", "route-0", "backend");

    [Fact]
    public void ListenerFault_AbortsRoutesWithoutTheirOwn_ARouteFaultWins()
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Cluster = "backend" }, new RouteDefinition { Cluster = "backend" }]);
        var counters = new ResilienceCounters(new Counter(), new Counter(), new Counter(), new Counter());
        var plain = new RouteRuntime(table.Routes[0], [], null, [Metrics]) { Counters = counters };
        var own = new RouteRuntime(table.Routes[1], [], null, [Metrics])
        {
            Counters = counters,
            Fault = FaultInjector.FromConfig(new FaultConfig { Abort = new FaultAbortConfig { Status = 418 } }),
        };
        var routing = new HttpRouting(table, [plain, own], Http1Limits.Default, Metrics)
        {
            Fault = FaultInjector.FromConfig(new FaultConfig { Abort = new FaultAbortConfig { Status = 503, Percent = 100 } }),
        };
        routing.Filters = HttpFilterRegistry.Build(["fault"], routing);
        var filter = Assert.Single(routing.Filters.Filters);

        Assert.Equal(new FilterVerdict(503, ResponseFlag.FaultInjected, TimeSpan.Zero), filter.OnRequest(new TestExchange(routing, plain)));
        Assert.Equal(new FilterVerdict(418, ResponseFlag.FaultInjected, TimeSpan.Zero), filter.OnRequest(new TestExchange(routing, own)));
        Assert.True(filter.OnRequest(new TestExchange(routing, null)).IsContinue); // no route: the router's 404
    }
}
