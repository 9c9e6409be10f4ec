using System.Net;
using System.Net.Http.Headers;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>
/// Virtual hosts and the query, path regex and gRPC matchers over real sockets: HTTP/1.1 and h2c clients (HttpClient)
/// in front of three Kestrel upstreams, each of which names itself in <c>x-upstream</c>, so the answer shows the route.
/// </summary>
public class VirtualHostRoutingTests
{
    public static TheoryData<string> Downstreams => Http2ProxyTests.Downstreams;

    private static string Config(KestrelUpstream api, KestrelUpstream web, KestrelUpstream canary) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:0
            virtual_hosts:
              - name: api
                domains: [ "api.example.test", "*.api.example.test" ]
                routes:
                  - name: by-query
                    match: { path_prefix: /hello, query: [ { name: flag, exact: "a/b" } ] }
                    cluster: canary
                  - name: by-regex
                    match: { path_regex: "/bytes/[0-9]{2}" }
                    cluster: canary
                  - name: by-grpc
                    match: { grpc: true, path_prefix: /echo }
                    cluster: canary
                  - name: by-header
                    match: { path_prefix: /headers, headers: [ { name: x-client, prefix: beta- }, { name: x-env, exact: prod, invert: true } ] }
                    cluster: canary
                  - name: api-rest
                    cluster: api
              - name: api-on-9999
                domains: [ "api.example.test:9999" ]
                routes: [ { cluster: web } ]
              - name: www
                domains: [ "www.*" ]
                routes: [ { match: { path_exact: /HELLO, case_sensitive: false }, cluster: web } ]
              - name: slow
                domains: [ "slow.test" ]
                timeout: 300ms
                routes:
                  - { match: { path_prefix: /slow/1000 }, cluster: api, timeout: 10s }
                  - { cluster: api }
        clusters:
          - { name: api, endpoints: [ {{api.Address}} ] }
          - { name: web, endpoints: [ {{web.Address}} ] }
          - { name: canary, endpoints: [ {{canary.Address}} ] }
        """;

    private static async Task<(HttpStatusCode Status, string? Upstream)> SendAsync(HttpClient client, HttpMethod method, string host, string target, string? contentType = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, target) { Version = client.DefaultRequestVersion, VersionPolicy = client.DefaultVersionPolicy };
        request.Headers.Host = host;
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        if (contentType is not null)
        {
            request.Content = new ByteArrayContent([0, 0, 0, 0, 0]);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(client.DefaultRequestVersion, response.Version);
        return (response.StatusCode, response.Headers.TryGetValues("x-upstream", out var values) ? values.Single() : null);
    }

    [Theory]
    [MemberData(nameof(Downstreams))]
    public async Task VirtualHosts_ChosenByHostWithPrecedenceAndPort_UnknownHost404(string downstream)
    {
        await using var api = await KestrelUpstream.StartAsync("api");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var canary = await KestrelUpstream.StartAsync("canary");
        await using var proxy = await RunningProxy.StartAsync(Config(api, web, canary));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, "api.example.test", "/hello"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, "API.Example.Test:80", "/hello"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, "eu.api.example.test", "/hello"));
        Assert.Equal((HttpStatusCode.OK, "web"), await SendAsync(client, HttpMethod.Get, "api.example.test:9999", "/hello"));
        Assert.Equal((HttpStatusCode.OK, "web"), await SendAsync(client, HttpMethod.Get, "www.example.org", "/Hello"));
        Assert.Equal((HttpStatusCode.NotFound, null), await SendAsync(client, HttpMethod.Get, "www.example.org", "/other"));
        Assert.Equal((HttpStatusCode.NotFound, null), await SendAsync(client, HttpMethod.Get, "unknown.test", "/hello"));

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(2, metrics.Value($"istio_requests_total{{reporter=\"source\",listener=\"web\",route=\"-\",destination_service=\"-\",request_protocol=\"http\",response_code=\"404\",response_flags=\"NR\"}}"));
    }

    [Theory]
    [MemberData(nameof(Downstreams))]
    public async Task Matchers_QueryDecodedRegexAndGrpc_PickTheirRoutes(string downstream)
    {
        await using var api = await KestrelUpstream.StartAsync("api");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var canary = await KestrelUpstream.StartAsync("canary");
        await using var proxy = await RunningProxy.StartAsync(Config(api, web, canary));
        using var client = Http2ProxyTests.Client(proxy, downstream);
        const string Host = "api.example.test";

        // Query parameters are percent-decoded before matching: %2F is the '/' of "a/b".
        Assert.Equal((HttpStatusCode.OK, "canary"), await SendAsync(client, HttpMethod.Get, Host, "/hello?x=1&flag=a%2Fb"));
        Assert.Equal((HttpStatusCode.OK, "canary"), await SendAsync(client, HttpMethod.Get, Host, "/hello?flag=a/b"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, Host, "/hello?flag=a"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, Host, "/hello"));

        // The regex matches the whole path, without the query.
        Assert.Equal((HttpStatusCode.OK, "canary"), await SendAsync(client, HttpMethod.Get, Host, "/bytes/12?flag=x"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, Host, "/bytes/123"));

        Assert.Equal((HttpStatusCode.OK, "canary"), await SendAsync(client, HttpMethod.Post, Host, "/echo", "application/grpc+proto"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Post, Host, "/echo", "application/json"));

        // A header prefix is a prefix (it used to compile to a whole-value match), and invert takes a missing header.
        Assert.Equal((HttpStatusCode.OK, "canary"), await SendAsync(client, HttpMethod.Get, Host, "/headers", null, ("x-client", "beta-7")));
        Assert.Equal((HttpStatusCode.OK, "canary"), await SendAsync(client, HttpMethod.Get, Host, "/headers", null, ("x-client", "beta-7"), ("x-env", "staging")));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, Host, "/headers", null, ("x-client", "beta-7"), ("x-env", "prod")));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, Host, "/headers", null, ("x-client", "alpha")));
    }

    [Fact]
    public async Task VirtualHostTimeout_IsTheDefaultOfItsRoutes_ARouteTimeoutWins()
    {
        await using var api = await KestrelUpstream.StartAsync("api");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var canary = await KestrelUpstream.StartAsync("canary");
        await using var proxy = await RunningProxy.StartAsync(Config(api, web, canary));
        using var client = Http2ProxyTests.Client(proxy, "h1");

        Assert.Equal((HttpStatusCode.GatewayTimeout, null), await SendAsync(client, HttpMethod.Get, "slow.test", "/slow/3000"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, "slow.test", "/slow/1000"));
        Assert.Equal((HttpStatusCode.OK, "api"), await SendAsync(client, HttpMethod.Get, "api.example.test", "/slow/1000"));
    }

    [Fact]
    public async Task AdminConfig_VirtualHostsAndMatchers_RoundTrip()
    {
        await using var api = await KestrelUpstream.StartAsync("api");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var canary = await KestrelUpstream.StartAsync("canary");
        string yaml = Config(api, web, canary);
        await using var proxy = await RunningProxy.StartAsync(yaml);

        var (status, json) = await proxy.Admin.GetAsync("/config");

        Assert.Equal(200, status);
        var written = Proxy.Configuration.ConfigLoader.LoadText(json, proxy.ConfigPath);
        Assert.True(written.Success, string.Join("\n", written.Errors) + "\n" + json);
        Assert.Equal(Proxy.Configuration.ConfigLoader.LoadText(yaml, proxy.ConfigPath).Config, written.Config);
        Assert.Equal(4, written.Config!.Listeners[0].VirtualHosts.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(300), written.Config.Listeners[0].VirtualHosts[3].Timeout);
    }

    [Fact]
    public async Task PathRegex_HostileLongPath_AnsweredAndConnectionStaysUsable()
    {
        await using var api = await KestrelUpstream.StartAsync("api");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var canary = await KestrelUpstream.StartAsync("canary");
        await using var proxy = await RunningProxy.StartAsync(Config(api, web, canary).Replace("/bytes/[0-9]{2}", "/(a+)+$", StringComparison.Ordinal));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));

        // A backtracking engine would take ages on this; the route falls through to api-rest, whose upstream says 404.
        await socket.SendAsync($"GET /{new string('a', 4000)}! HTTP/1.1\r\nHost: api.example.test\r\n\r\nGET /aaaa HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n");
        string all = await socket.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 404", all, StringComparison.Ordinal);
        Assert.Contains("x-upstream: api", all, StringComparison.Ordinal);
        Assert.Contains("x-upstream: canary", all, StringComparison.Ordinal);
    }
}
