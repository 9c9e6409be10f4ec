using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Routing;

/// <summary>
/// Route and listener header changes and path/host rewrites, through the real binary's request path: HTTP/1.1 and
/// HTTP/2 clients in front of HTTP/1.1 and HTTP/2 upstreams (Kestrel, which echoes the target and fields it got).
/// </summary>
public class HeaderChangeAndRewriteTests
{
    public static TheoryData<string, string> Pairings => new()
    {
        { "h1", "http1" }, { "h1", "http2" }, { "h2", "http1" }, { "h2", "http2" },
    };

    private static string Config(string endpoint, string clusterProtocol) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            request_headers:
              set: { x-env: listener }
              add: { x-listener: "1" }
            response_headers:
              add: { x-served-by: "%UPSTREAM_REMOTE_ADDRESS%" }
            routes:
              - name: api
                match: { path_prefix: /v1/ }
                cluster: backend
                prefix_rewrite: /target/api/v1/
                host_rewrite: api.internal
                request_headers:
                  set: { x-env: route, x-route: "%ROUTE_NAME%", x-client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }
                  set_if_absent: { x-tenant: default }
                  remove: [ x-secret ]
                response_headers:
                  set: { x-upstream: hidden }
                  set_if_absent: { cache-control: no-store }
              - name: swap
                match: { path_prefix: /r/ }
                cluster: backend
                regex_rewrite: { pattern: "^/r/([a-z]+)/([a-z]+)$", substitution: "/target/\\2/\\1" }
                auto_host_rewrite: true
              - name: rest
                cluster: backend
        clusters:
          - name: backend
            endpoints: [ {{endpoint}} ]
            protocol: {{clusterProtocol}}
        """;

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task PrefixRewriteAndFieldChanges_ReachUpstreamAndClient(string downstream, string clusterProtocol)
    {
        await using var upstream = await KestrelUpstream.StartAsync("b", clusterProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var request = Request(downstream, "/v1/users?page=2");
        request.Headers.Add("x-secret", "s3cret");
        request.Headers.Add("x-env", "client");
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var fields = Fields(body);

        // The path: the matched prefix replaced, the query kept, the original in x-envoy-original-path.
        Assert.Equal("/target/api/v1/users?page=2", fields["target"]);
        Assert.Equal("/v1/users?page=2", fields["x-envoy-original-path"]);

        // The host: the literal; X-Forwarded-Host keeps the client's.
        Assert.Equal("api.internal", fields["host"]);
        Assert.Equal(proxy.Listener("web").ToString(), fields["x-forwarded-host"]);

        // Fields: the listener's set has the last word over the route's (Envoy's default order), the client's value is
        // replaced, removals go, variables are filled in, set_if_absent fills a gap.
        Assert.Equal("listener", fields["x-env"]);
        Assert.Equal("1", fields["x-listener"]);
        Assert.Equal("api", fields["x-route"]);
        Assert.Equal("127.0.0.1", fields["x-client"]);
        Assert.Equal("default", fields["x-tenant"]);
        Assert.False(fields.ContainsKey("x-secret"));

        // The response: the upstream's x-upstream replaced, the answering endpoint named, a missing field set.
        Assert.Equal(["hidden"], response.Headers.GetValues("x-upstream"));
        Assert.Equal([upstream.Address], response.Headers.GetValues("x-served-by"));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task SetIfAbsent_KeepsClientsValue(string downstream, string clusterProtocol)
    {
        await using var upstream = await KestrelUpstream.StartAsync("b", clusterProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var request = Request(downstream, "/v1/x");
        request.Headers.Add("x-tenant", "acme");
        using var response = await client.SendAsync(request);
        var fields = Fields(await response.Content.ReadAsStringAsync());

        Assert.Equal("acme", fields["x-tenant"]);
    }

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task RegexRewriteWithGroups_AndAutoHost_UseTheEndpoint(string downstream, string clusterProtocol)
    {
        await using var upstream = await KestrelUpstream.StartAsync("b", clusterProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var response = await client.SendAsync(Request(downstream, "/r/alpha/beta?q=1"));
        var fields = Fields(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/target/beta/alpha?q=1", fields["target"]);
        Assert.Equal("/r/alpha/beta?q=1", fields["x-envoy-original-path"]);
        Assert.Equal(upstream.Address, fields["host"]);
        Assert.Equal("listener", fields["x-env"]); // the listener's changes apply to every route
        Assert.False(response.Headers.Contains("x-upstream") && response.Headers.GetValues("x-upstream").Single() == "hidden");
    }

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task RouteWithoutRewrite_SendsClientsTargetAndHost_AndDropsForgedOriginalPath(string downstream, string clusterProtocol)
    {
        await using var upstream = await KestrelUpstream.StartAsync("b", clusterProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var plain = await client.SendAsync(Request(downstream, "/target/plain?a=b"));
        var fields = Fields(await plain.Content.ReadAsStringAsync());
        Assert.Equal("/target/plain?a=b", fields["target"]);
        Assert.Equal(proxy.Listener("web").ToString(), fields["host"]);
        Assert.False(fields.ContainsKey("x-envoy-original-path"));

        // On a rewriting route the client cannot pass its own x-envoy-original-path off as the proxy's.
        using var forged = Request(downstream, "/v1/y");
        forged.Headers.Add("x-envoy-original-path", "/forged");
        using var response = await client.SendAsync(forged);
        Assert.Equal("/v1/y", Fields(await response.Content.ReadAsStringAsync())["x-envoy-original-path"]);
    }

    private static HttpRequestMessage Request(string downstream, string target) =>
        new(HttpMethod.Get, target)
        {
            Version = downstream == "h2" ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

    /// <summary>The upstream's echo ("name: value" lines) as a map; a repeated field would show as one comma-joined value.</summary>
    private static Dictionary<string, string> Fields(string body) =>
        body.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(": ", 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : "");

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task VirtualHostChanges_BetweenRouteAndListener(string downstream, string clusterProtocol)
    {
        await using var upstream = await KestrelUpstream.StartAsync("b", clusterProtocol == "http2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                request_headers: { set: { x-level: listener } }
                virtual_hosts:
                  - name: all
                    domains: [ "*" ]
                    request_headers: { set: { x-level: vhost, x-vhost: all }, add: { x-seen: vhost } }
                    response_headers: { set: { x-upstream: from-vhost } }
                    routes:
                      - name: r
                        cluster: backend
                        request_headers: { set: { x-vhost: route, x-route-only: "1" }, add: { x-seen: route } }
            clusters:
              - name: backend
                endpoints: [ {{upstream.Address}} ]
                protocol: {{clusterProtocol}}
            """);
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using var response = await client.SendAsync(Request(downstream, "/target/x"));
        var fields = Fields(await response.Content.ReadAsStringAsync());

        Assert.Equal("listener", fields["x-level"]); // the listener over the virtual host
        Assert.Equal("all", fields["x-vhost"]);      // the virtual host over the route
        Assert.Equal("1", fields["x-route-only"]);
        Assert.Equal("route,vhost", fields["x-seen"]); // appended in order: route, then virtual host
        Assert.Equal(["from-vhost"], response.Headers.GetValues("x-upstream"));
    }
}
