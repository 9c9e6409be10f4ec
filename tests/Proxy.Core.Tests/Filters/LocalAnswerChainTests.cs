using Proxy.Filters;
using Proxy.Forwarding;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Routing;
using Proxy.Runtime;

namespace Proxy.Tests.Filters;

/// <summary>A route that answers by itself is answered at the chain's end: after every filter, never instead of one.</summary>
public class LocalAnswerChainTests
{
    private static readonly RouteMetrics Metrics = new(new RequestMetricFamilies(new MetricsRegistry()), "web", "maintenance", "-");

    private static (HttpRouting Routing, RouteRuntime Action) Build(LocalResponse response)
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Name = "maintenance", AnswersLocally = true }]);
        var action = new RouteRuntime(table.Routes[0], [], null, [Metrics]) { LocalResponse = response };
        return (new HttpRouting(table, [action], Http1Limits.Default, Metrics), action);
    }

    private sealed class ScriptedFilter(FilterVerdict verdict, List<string> log) : IHttpFilter
    {
        public string Name => "scripted";

        public FilterVerdict OnRequest(HttpExchange exchange)
        {
            log.Add("request");
            return verdict;
        }

        public void OnComplete(HttpExchange exchange) => log.Add("complete");
    }

    [Fact]
    public async Task RunAsync_LocalRoute_FiltersPassThenAnsweredLocally()
    {
        var response = LocalResponse.Direct(503, "down for maintenance"u8);
        var (routing, action) = Build(response);
        var log = new List<string>();
        var chain = new HttpFilterChain([new ScriptedFilter(FilterVerdict.Continue, log)]);
        var exchange = new TestExchange(routing, action);

        Assert.False(await chain.RunAsync(exchange)); // answered: the router forwards nothing
        chain.Complete(exchange);

        Assert.Equal([response], exchange.LocalAnswers);
        Assert.Empty(exchange.Answers);
        Assert.Equal(["request", "complete"], log);
        Assert.Null(exchange.Cluster);
    }

    [Fact]
    public async Task RunAsync_LocalRouteRateLimited_FilterAnswersFirst()
    {
        var (routing, action) = Build(LocalResponse.ForRedirect(new RedirectAction(301, scheme: "https")));
        var chain = new HttpFilterChain([new ScriptedFilter(FilterVerdict.Answer(429, ResponseFlag.RateLimited), [])]);
        var exchange = new TestExchange(routing, action);

        Assert.False(await chain.RunAsync(exchange));

        Assert.Equal([(429, ResponseFlag.RateLimited)], exchange.Answers);
        Assert.Empty(exchange.LocalAnswers);
    }

    [Fact]
    public async Task RunAsync_EmptyChainLocalRoute_Answered()
    {
        var (routing, action) = Build(LocalResponse.Direct(200, default));
        var exchange = new TestExchange(routing, action);

        Assert.False(await HttpFilterChain.Empty.RunAsync(exchange));
        Assert.Single(exchange.LocalAnswers);
    }

    [Fact]
    public void Direct_ContentTypeDefaultsOnlyWithABody()
    {
        Assert.Equal("text/plain"u8.ToArray(), LocalResponse.Direct(200, "x"u8).ContentType.ToArray());
        Assert.True(LocalResponse.Direct(200, default).ContentType.IsEmpty);
        Assert.Equal("application/json"u8.ToArray(), LocalResponse.Direct(200, "{}"u8, "application/json").ContentType.ToArray());
        Assert.Equal("2"u8.ToArray(), LocalResponse.Direct(200, "{}"u8).ContentLength.ToArray());
        Assert.False(LocalResponse.Direct(204, default).HasContentLength);
        Assert.True(LocalResponse.ForRedirect(new RedirectAction(302)).HasContentLength);
        Assert.Equal("0"u8.ToArray(), LocalResponse.ForRedirect(new RedirectAction(302)).ContentLength.ToArray());
    }
}
