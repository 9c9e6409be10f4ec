using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Filters;

/// <summary>
/// A filter added from outside the proxy (<see cref="ProtocolTagFilter"/>: one file, one registration line) runs for
/// HTTP/1.1 and HTTP/2 clients in front of HTTP/1.1 and HTTP/2 upstreams: the four pairings of the one request path.
/// </summary>
public class CustomFilterTests
{
    public static TheoryData<string, string> Pairings => new()
    {
        { "h1", "http1" }, { "h1", "http2" }, { "h2", "http1" }, { "h2", "http2" },
    };

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task RegisteredFilter_ListedInConfig_AddsFieldAndAnswersOnEveryPairing(string downstream, string upstreamProtocol)
    {
        ProtocolTagFilter.Register();
        await using var upstream = await KestrelUpstream.StartAsync("b", upstreamProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, upstreamProtocol,
            listenerExtra: $"    http_filters: [ {ProtocolTagFilter.FilterName}, rate_limit ]"));
        using var client = Http2ProxyTests.Client(proxy, downstream);
        var version = downstream == "h2" ? HttpVersion.Version20 : HttpVersion.Version11;

        var completedBefore = Volatile.Read(ref ProtocolTagFilter.Completed);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/headers") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var protocol = downstream == "h2" ? "HTTP/2" : "HTTP/1.1";
            Assert.Contains($"x-filter-saw: {protocol} GET /headers route=route-0 cluster=backend", body, StringComparison.Ordinal);
        }

        var requestsBefore = upstream.Requests;
        using (var blocked = new HttpRequestMessage(HttpMethod.Get, "/hello") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            blocked.Headers.Add("x-block", "1");
            using var response = await client.SendAsync(blocked);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("rbac-access-denied", response.Headers.GetValues("x-proxy-error").Single());
        }

        Assert.Equal(requestsBefore, upstream.Requests); // the answer came from the filter: nothing reached the upstream
        Assert.True(Volatile.Read(ref ProtocolTagFilter.Completed) >= completedBefore + 1);
    }
}
