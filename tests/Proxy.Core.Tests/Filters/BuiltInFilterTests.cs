using Proxy.Filters;
using Proxy.Forwarding;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Resilience;
using Proxy.Routing;
using Proxy.Runtime;

namespace Proxy.Tests.Filters;

/// <summary>
/// The rate limit and fault filters of the default chain, decided over a request as the chain runs them: the first
/// verdict that is not "continue" is the chain's (moved from the former RouteAdmission tests, assertions kept).
/// </summary>
public class BuiltInFilterTests
{
    private static readonly RouteMetrics Metrics = new(new RequestMetricFamilies(new MetricsRegistry()), "web", "route-0", "backend");

    private static (HttpRouting Routing, RouteRuntime Action) Build(TokenBucket? listenerLimit = null, TokenBucket? routeLimit = null, FaultInjector? fault = null, HeaderMatcher[]? faultHeaders = null, MirrorPolicy? mirror = null)
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Cluster = "backend" }]);
        var action = new RouteRuntime(table.Routes[0], [], null, [Metrics])
        {
            RateLimit = routeLimit,
            Fault = fault,
            FaultHeaders = faultHeaders ?? [],
            Mirror = mirror,
            Counters = new ResilienceCounters(new Counter(), new Counter(), new Counter(), new Counter()),
        };
        var routing = new HttpRouting(table, [action], Http1Limits.Default, Metrics) { RateLimit = listenerLimit, RateLimited = new Counter() };
        routing.Filters = HttpFilterRegistry.Build(null, routing);
        return (routing, action);
    }

    private static FilterVerdict Decide(HttpRouting routing, RouteRuntime action, params (string Name, string Value)[] headers)
    {
        var exchange = new TestExchange(routing, action, headers: headers);
        foreach (IHttpFilter filter in routing.Filters.Filters)
        {
            FilterVerdict verdict = filter.OnRequest(exchange);
            if (!verdict.IsContinue)
            {
                return verdict;
            }
        }

        return FilterVerdict.Continue;
    }

    [Fact]
    public void Decide_NothingConfigured_ForwardAtOnce()
    {
        var (routing, action) = Build();
        FilterVerdict verdict = Decide(routing, action, ("x-proxy-fault-abort", "503"));
        Assert.True(verdict.IsContinue);
        Assert.Equal(FilterVerdict.Continue, verdict);
        Assert.Empty(routing.Filters.Filters); // nothing to do on this listener: no filter is even in its chain
    }

    [Fact]
    public void Decide_ListenerBucketEmpty_RateLimitedCountedOnListener()
    {
        var (routing, action) = Build(listenerLimit: new TokenBucket(1, 1, () => 0), routeLimit: new TokenBucket(1, 5, () => 0));
        Assert.True(Decide(routing, action).IsContinue);

        FilterVerdict limited = Decide(routing, action);
        Assert.Equal(429, limited.Status);
        Assert.Equal(ResponseFlag.RateLimited, limited.Flag);
        Assert.Equal(1, routing.RateLimited.Value);
        Assert.Equal(0, action.Counters.RateLimited.Value);
    }

    [Fact]
    public void Decide_RouteBucketEmpty_RateLimitedCountedOnRoute()
    {
        var (routing, action) = Build(routeLimit: new TokenBucket(1, 1, () => 0));
        Assert.True(Decide(routing, action).IsContinue);

        Assert.Equal(FilterVerdict.Answer(429, ResponseFlag.RateLimited), Decide(routing, action));
        Assert.Equal(0, routing.RateLimited.Value);
        Assert.Equal(1, action.Counters.RateLimited.Value);
    }

    [Fact]
    public void Decide_RateLimited_NoFaultDrawn()
    {
        var (routing, action) = Build(routeLimit: new TokenBucket(1, 1, () => 0), fault: new FaultInjector(TimeSpan.FromSeconds(1), 100, 503, 100));
        Decide(routing, action);

        Assert.Equal(FilterVerdict.Answer(429, ResponseFlag.RateLimited), Decide(routing, action));
        Assert.Equal(1, action.Counters.FaultDelays.Value);
        Assert.Equal(1, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_FaultDelayAndAbort_BothReturnedAndCounted()
    {
        var (routing, action) = Build(fault: new FaultInjector(TimeSpan.FromMilliseconds(300), 100, 503, 100));
        FilterVerdict verdict = Decide(routing, action);
        Assert.Equal(new FilterVerdict(503, ResponseFlag.FaultInjected, TimeSpan.FromMilliseconds(300)), verdict);
        Assert.False(verdict.IsContinue);
        Assert.Equal(1, action.Counters.FaultDelays.Value);
        Assert.Equal(1, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_FaultDelayOnly_DelayThenForward()
    {
        var (routing, action) = Build(fault: new FaultInjector(TimeSpan.Zero, 0, 503, 0, headerControl: true));
        FilterVerdict verdict = Decide(routing, action, ("x-proxy-fault-delay", "250"));
        Assert.Equal(new FilterVerdict(0, ResponseFlag.None, TimeSpan.FromMilliseconds(250)), verdict);
        Assert.False(verdict.IsContinue);
        Assert.Equal(1, action.Counters.FaultDelays.Value);
        Assert.Equal(0, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_FaultHeadersNotMatched_NothingInjectedEvenWhenAsked()
    {
        var (routing, action) = Build(fault: new FaultInjector(TimeSpan.Zero, 0, 503, 100, headerControl: true), faultHeaders: [HeaderMatcher.Exact("x-fault", "yes")]);
        Assert.True(Decide(routing, action, ("x-proxy-fault-abort", "418")).IsContinue);

        FilterVerdict matched = Decide(routing, action, ("x-fault", "yes"), ("x-proxy-fault-abort", "418"));
        Assert.Equal(418, matched.Status);
        Assert.Equal(ResponseFlag.FaultInjected, matched.Flag);
        Assert.Equal(1, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_HeaderControlOff_RequestedFaultsIgnored()
    {
        // The default: a client's x-proxy-fault-* fields are forwarded as any other, never obeyed.
        var (routing, action) = Build(fault: new FaultInjector(TimeSpan.Zero, 0, 503, 0));
        Assert.False(action.Fault!.HeaderControl);
        Assert.Equal(FilterVerdict.Continue, Decide(routing, action, ("x-proxy-fault-delay", "250"), ("x-proxy-fault-abort", "418")));
        Assert.Equal(0, action.Counters.FaultDelays.Value);
        Assert.Equal(0, action.Counters.FaultAborts.Value);
    }

    [Fact]
    public void Decide_HeaderControlFromConfig_OffByDefaultOnWhenSet()
    {
        var abort = new Proxy.Configuration.FaultAbortConfig { Status = 503, Percent = 0 };
        var (routing, off) = Build(fault: FaultInjector.FromConfig(new Proxy.Configuration.FaultConfig { Abort = abort }));
        Assert.True(Decide(routing, off, ("x-proxy-fault-abort", "418")).IsContinue);

        var (routing2, on) = Build(fault: FaultInjector.FromConfig(new Proxy.Configuration.FaultConfig { Abort = abort, HeaderControl = true }));
        Assert.Equal(418, Decide(routing2, on, ("x-proxy-fault-abort", "418")).Status);
    }

    [Fact]
    public void Mirror_NoMirror_NotInChainAndNothingCounted()
    {
        var (routing, action) = Build();
        Assert.DoesNotContain(routing.Filters.Filters, static f => f is MirrorFilter);
        Assert.True(MirrorFilter.Instance.OnRequest(new TestExchange(routing, action)).IsContinue);
        Assert.Equal(0, action.Counters.Mirrored.Value);
    }

    [Fact]
    public void Mirror_RequestWithBody_NotMirrored()
    {
        var (routing, action) = Build(mirror: new MirrorPolicy("shadow", 100));
        Assert.Contains(routing.Filters.Filters, static f => f is MirrorFilter);
        Assert.True(MirrorFilter.Instance.OnRequest(new TestExchange(routing, action, hasBody: true)).IsContinue);
        Assert.Equal(0, action.Counters.Mirrored.Value);
    }
}
