using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>
/// The route timeout bounds the whole request, the connect and the response head's arrival included, on every pairing
/// of client and upstream protocol (the router's one attempt loop, <c>AttemptDriver</c>).
/// </summary>
public class RequestDeadlineTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(8);

    public static TheoryData<string, string> Pairings => new()
    {
        { "h1", "http1" }, { "h1", "http2" }, { "h2", "http1" }, { "h2", "http2" },
    };

    /// <summary>
    /// A connect that hangs is cut to the time left before the deadline: 504 <c>upstream-timeout</c> at the route's
    /// 400 ms, not 502 after the cluster's 20 s connect timeout.
    /// </summary>
    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task RouteTimeout_ConnectHangs_CutToTimeLeftAnd504(string downstream, string upstreamProtocol)
    {
        using var hanging = await HangingConnectEndpoint.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(hanging.Address, upstreamProtocol,
            routeExtra: "        timeout: 400ms", clusterExtra: "    connect_timeout: 20s"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var response = await client.GetAsync("/x").WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream-timeout", response.Headers.GetValues("x-proxy-error").Single());
    }

    /// <summary>
    /// A response head that arrives after the deadline is not relayed, even when the timer that should have ended the
    /// wait has not fired (here it never does: <see cref="FrozenTimers"/>, as on a machine too busy to run it).
    /// </summary>
    [Theory]
    [InlineData("http1")]
    [InlineData("http2")]
    public async Task RouteTimeout_ResponseHeadAfterDeadline_NotRelayed(string upstreamProtocol)
    {
        await using var upstream = await KestrelUpstream.StartAsync("b", upstreamProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, upstreamProtocol, routeExtra: "        timeout: 300ms"),
            time: new FrozenTimers());
        using var client = Http2ProxyTests.Client(proxy, "h1");

        using var late = await client.GetAsync("/slow/900").WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.GatewayTimeout, late.StatusCode);
        Assert.Equal("upstream-timeout", late.Headers.GetValues("x-proxy-error").Single());

        // A head in time is relayed as ever.
        using var client2 = Http2ProxyTests.Client(proxy, "h1");
        using var prompt = await client2.GetAsync("/hello").WaitAsync(Wait);
        Assert.Equal(HttpStatusCode.OK, prompt.StatusCode);
    }
}
