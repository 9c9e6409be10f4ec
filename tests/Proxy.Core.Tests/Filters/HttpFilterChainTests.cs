using Proxy.Configuration;
using Proxy.Filters;
using Proxy.Forwarding;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Routing;
using Proxy.Runtime;

namespace Proxy.Tests.Filters;

public class HttpFilterChainTests
{
    private static readonly RouteMetrics Metrics = new(new RequestMetricFamilies(new MetricsRegistry()), "web", "route-0", "backend");

    private static HttpRouting Routing()
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Cluster = "backend" }]);
        return new HttpRouting(table, [new RouteRuntime(table.Routes[0], [], null, [Metrics])], Http1Limits.Default, Metrics);
    }

    /// <summary>A filter that says what it was told to and logs what it saw.</summary>
    private sealed class ScriptedFilter(string name, FilterVerdict verdict, List<string> log) : IHttpFilter
    {
        public string Name => name;

        public FilterVerdict OnRequest(HttpExchange exchange)
        {
            log.Add("request " + name);
            return verdict;
        }

        public void OnComplete(HttpExchange exchange) => log.Add("complete " + name);
    }

    [Fact]
    public async Task RunAsync_AllContinue_TrueAtOnceAndEveryFilterCompletedLastFirst()
    {
        var log = new List<string>();
        var chain = new HttpFilterChain([new ScriptedFilter("a", FilterVerdict.Continue, log), new ScriptedFilter("b", FilterVerdict.Continue, log)]);
        var exchange = new TestExchange(Routing(), null);

        ValueTask<bool> run = chain.RunAsync(exchange);
        Assert.True(run.IsCompletedSuccessfully); // no await, no allocation on the common path
        Assert.True(await run);
        chain.Complete(exchange);

        Assert.Equal(["request a", "request b", "complete b", "complete a"], log);
        Assert.Empty(exchange.Answers);
    }

    [Fact]
    public async Task RunAsync_FilterAnswers_LaterFiltersNotRunAndOnlyEarlierOnesCompleted()
    {
        var log = new List<string>();
        var chain = new HttpFilterChain([
            new ScriptedFilter("a", FilterVerdict.Continue, log),
            new ScriptedFilter("deny", FilterVerdict.Answer(403, ResponseFlag.AccessDenied), log),
            new ScriptedFilter("c", FilterVerdict.Continue, log)]);
        var exchange = new TestExchange(Routing(), null);

        Assert.False(await chain.RunAsync(exchange));
        chain.Complete(exchange);

        Assert.Equal([(403, ResponseFlag.AccessDenied)], exchange.Answers);
        Assert.Equal(["request a", "request deny", "complete a"], log);
    }

    [Fact]
    public async Task RunAsync_DelayWithoutAnswer_ChainGoesOnAfterTheDelay()
    {
        var log = new List<string>();
        var chain = new HttpFilterChain([
            new ScriptedFilter("slow", new FilterVerdict(0, ResponseFlag.None, TimeSpan.FromMilliseconds(20)), log),
            new ScriptedFilter("b", FilterVerdict.Continue, log)]);
        var exchange = new TestExchange(Routing(), null);

        Assert.True(await chain.RunAsync(exchange));
        chain.Complete(exchange);

        Assert.Equal(["request slow", "request b", "complete b", "complete slow"], log);
    }

    [Fact]
    public async Task RunAsync_ClientLeavesDuringDelay_RecordedAsGoneAndNotAnswered()
    {
        var log = new List<string>();
        var chain = new HttpFilterChain([new ScriptedFilter("slow", new FilterVerdict(503, ResponseFlag.FaultInjected, TimeSpan.FromMilliseconds(20)), log)]);
        var exchange = new TestExchange(Routing(), null) { Gone = true };

        Assert.False(await chain.RunAsync(exchange));

        Assert.Empty(exchange.Answers);
        Assert.Equal(1, exchange.GoneRecorded);
    }

    [Fact]
    public async Task RunAsync_DelayThenAnswer_Answered()
    {
        var chain = new HttpFilterChain([new ScriptedFilter("fault", new FilterVerdict(503, ResponseFlag.FaultInjected, TimeSpan.FromMilliseconds(20)), [])]);
        var exchange = new TestExchange(Routing(), null);

        Assert.False(await chain.RunAsync(exchange));
        Assert.Equal([(503, ResponseFlag.FaultInjected)], exchange.Answers);
    }

    [Fact]
    public void Registry_UnknownNameInConfig_ValidationSaysWhichNamesExist()
    {
        var result = ConfigLoader.LoadText("""
            listeners:
              - name: web
                address: 127.0.0.1:0
                http_filters: [ fault, no_such_filter, router, fault ]
                routes: [ { match: { path_prefix: / }, cluster: backend } ]
            clusters:
              - name: backend
                endpoints: [ 127.0.0.1:9 ]
            """, "test.yaml");

        Assert.Contains(result.Errors, e => e.Message.Contains("unknown HTTP filter 'no_such_filter'", StringComparison.Ordinal) && e.Message.Contains("rate_limit", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Message.Contains("router always runs last", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Message.Contains("'fault' is listed twice", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_SectionWhoseFilterIsLeftOut_ErrorNamesTheFilterToAdd()
    {
        var result = ConfigLoader.LoadText("""
            listeners:
              - name: web
                address: 127.0.0.1:0
                http_filters: [ circuit_breaker ]
                rate_limit: { requests_per_second: 5 }
                routes:
                  - match: { path_prefix: / }
                    cluster: backend
                    fault: { abort: { status: 503, percent: 100 } }
                    mirror: { cluster: backend }
            clusters:
              - name: backend
                endpoints: [ 127.0.0.1:9 ]
            """, "test.yaml");

        Assert.Contains(result.Errors, e => e.Path == "listeners[0].rate_limit" && e.Message.Contains("leaves out 'rate_limit'", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Path == "listeners[0].routes[0].fault" && e.Message.Contains("leaves out 'fault'", StringComparison.Ordinal) && e.Line == 9);
        Assert.Contains(result.Errors, e => e.Path == "listeners[0].routes[0].mirror" && e.Message.Contains("leaves out 'mirror'", StringComparison.Ordinal));
        Assert.Equal(3, result.Errors.Count);
    }

    [Fact]
    public void Registry_RegisteredFilter_AcceptedByValidationAndBuiltInConfiguredOrder()
    {
        HttpFilterRegistry.Register("chain_test_marker", static _ => new ScriptedFilter("chain_test_marker", FilterVerdict.Continue, []));
        var result = ConfigLoader.LoadText("""
            listeners:
              - name: web
                address: 127.0.0.1:0
                http_filters: [ chain_test_marker ]
                routes: [ { match: { path_prefix: / }, cluster: backend } ]
            clusters:
              - name: backend
                endpoints: [ 127.0.0.1:9 ]
            """, "test.yaml");

        Assert.Empty(result.Errors);
        Assert.Equal(["chain_test_marker"], result.Config!.Listeners[0].HttpFilters!);
        HttpFilterChain chain = HttpFilterRegistry.Build(result.Config.Listeners[0].HttpFilters, Routing());
        Assert.Equal(["chain_test_marker"], chain.Filters.Select(static f => f.Name));
    }
}
