using Proxy.Forwarding;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Runtime;
using Proxy.Tests.Routing;
using Proxy.Upstream;

namespace Proxy.Tests.Forwarding;

public class RouteAdmissionTests
{
    private static readonly RouteMetrics Metrics = new(new RequestMetricFamilies(new MetricsRegistry()), "web", "route-0", "backend");

    private static (HttpRouting Routing, RouteRuntime Action) Build(TokenBucket? listenerLimit = null, TokenBucket? routeLimit = null, FaultInjector? fault = null, HeaderMatcher[]? faultHeaders = null)
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Cluster = "backend" }]);
        var action = new RouteRuntime(table.Routes[0], [], null, [Metrics])
        {
            RateLimit = routeLimit,
            Fault = fault,
            FaultHeaders = faultHeaders ?? [],
            Counters = new ResilienceCounters(new Counter(), new Counter(), new Counter(), new Counter()),
        };
        var routing = new HttpRouting(table, [action], Http1Limits.Default, Metrics) { RateLimit = listenerLimit, RateLimited = new Counter() };
        return (routing, action);
    }

    private static Admission Decide(HttpRouting routing, RouteRuntime action, params (string Name, string Value)[] headers)
    {
        var request = new TestRequest("example.test", "/", "GET", headers);
        return RouteAdmission.Decide(routing, action, ref request);
    }

    [Fact]
    public void Decide_NothingConfigured_ForwardAtOnce()
    {
        var (routing, action) = Build();
        Admission admission = Decide(routing, action, ("x-proxy-fault-abort", "503"));
        Assert.True(admission.IsForward);
        Assert.Equal(Admission.Forward, admission);
    }

    [Fact]
    public void Decide_ListenerBucketEmpty_RateLimitedCountedOnListener()
    {
        var (routing, action) = Build(listenerLimit: new TokenBucket(1, 1, () => 0), routeLimit: new TokenBucket(1, 5, () => 0));
        Assert.True(Decide(routing, action).IsForward);

        Admission limited = Decide(routing, action);
        Assert.Equal(429, limited.Status);
        Assert.Equal(ResponseFlag.RateLimited, limited.Flag);
        Assert.Equal(1, routing.RateLimited.Value);
        Assert.Equal(0, action.Counters.RateLimited.Value);
    }

    [Fact]
    public void Decide_RouteBucketEmpty_RateLimitedCountedOnRoute()
    {
        var (routing, action) = Build(routeLimit: new TokenBucket(1, 1, () => 0));
        Assert.True(Decide(routing, action).IsForward);

        Assert.Equal(Admission.RateLimited, Decide(routing, action));
        Assert.Equal(0, routing.RateLimited.Value);
        Assert.Equal(1, action.Counters.RateLimited.Value);
    }

    [Fact]
    public void Decide_RateLimited_NoFaultDrawn()
    {
        var (routing, action) = Build(routeLimit: new TokenBucket(1, 1, () => 0), fault: new FaultInjector(TimeSpan.FromSeconds(1), 100, 503, 100));
        Decide(routing, action);

        Assert.Equal(Admission.RateLimited, Decide(routing, action));
        Assert.Equal(1, action.Counters.FaultDelays.Value);
        Assert.Equal(1, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_FaultDelayAndAbort_BothReturnedAndCounted()
    {
        var (routing, action) = Build(fault: new FaultInjector(TimeSpan.FromMilliseconds(300), 100, 503, 100));
        Admission admission = Decide(routing, action);
        Assert.Equal(new Admission(503, ResponseFlag.FaultInjected, TimeSpan.FromMilliseconds(300)), admission);
        Assert.False(admission.IsForward);
        Assert.Equal(1, action.Counters.FaultDelays.Value);
        Assert.Equal(1, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_FaultDelayOnly_DelayThenForward()
    {
        var (routing, action) = Build(fault: new FaultInjector(TimeSpan.Zero, 0, 503, 0));
        Admission admission = Decide(routing, action, ("x-proxy-fault-delay", "250"));
        Assert.Equal(new Admission(0, ResponseFlag.None, TimeSpan.FromMilliseconds(250)), admission);
        Assert.False(admission.IsForward);
        Assert.Equal(1, action.Counters.FaultDelays.Value);
        Assert.Equal(0, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_FaultHeadersNotMatched_NothingInjectedEvenWhenAsked()
    {
        var (routing, action) = Build(fault: new FaultInjector(TimeSpan.Zero, 0, 503, 100), faultHeaders: [HeaderMatcher.Exact("x-fault", "yes")]);
        Assert.True(Decide(routing, action, ("x-proxy-fault-abort", "418")).IsForward);

        Admission matched = Decide(routing, action, ("x-fault", "yes"), ("x-proxy-fault-abort", "418"));
        Assert.Equal(418, matched.Status);
        Assert.Equal(ResponseFlag.FaultInjected, matched.Flag);
        Assert.Equal(1, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void MirrorTarget_NoMirror_Null()
    {
        var (_, action) = Build();
        Assert.Null(RouteAdmission.MirrorTarget(action, hasBody: false));
        Assert.Equal(0, action.Counters.Mirrored.Value);
    }
}
