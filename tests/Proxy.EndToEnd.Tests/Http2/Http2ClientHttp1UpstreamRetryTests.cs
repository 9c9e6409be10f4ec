using System.Net;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// Retries when an HTTP/2 client's request goes to an HTTP/1.1 cluster, as on the other pairings: the route's
/// policy (a small body is received whole first, so it is sent again), none without one, and a pooled keep-alive
/// connection the upstream closed replaced by a fresh one for a request that is safe to repeat.
/// </summary>
public class Http2ClientHttp1UpstreamRetryTests
{
    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    /// <summary>An upstream whose first request gets 503; later ones 200 with the length of the body they carried.</summary>
    private static ScriptedHttp1Upstream FailFirst() => ScriptedHttp1Upstream.Start(async exchange =>
    {
        int length = int.Parse(exchange.Header("content-length") ?? "0");
        byte[] body = await exchange.ReadBodyAsync(length);
        string text = exchange.Index == 1 ? "busy" : $"ok {body.Length}";
        await exchange.SendAsync($"HTTP/1.1 {(exchange.Index == 1 ? "503 Service Unavailable" : "200 OK")}\r\nContent-Length: {text.Length}\r\n\r\n{text}");
    });

    [Theory]
    [InlineData("GET", 0)]
    [InlineData("PUT", 1000)]
    public async Task RetryPolicy_503ThenOk_ClientSees200(string method, int bodyLength)
    {
        await using var upstream = FailFirst();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1",
            routeExtra: "        retries: { attempts: 2, retry_on: [5xx], backoff_base: 1ms }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        // The PUT's 1000-byte body is received whole before the first try, so the second try carries it too.
        using var request = new HttpRequestMessage(new HttpMethod(method), "/x");
        request.Version = HttpVersion.Version20; // a message made by hand asks for HTTP/1.1 otherwise
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        if (bodyLength > 0)
        {
            request.Content = new ByteArrayContent(new byte[bodyLength]);
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"ok {bodyLength}", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"5xx\"}"));
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}"));
    }

    [Fact]
    public async Task NoRetryPolicy_503_RelayedAsIs()
    {
        await using var upstream = FailFirst();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1"));
        using var client = Http2ProxyTests.H2Client(proxy);

        using var response = await client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("busy", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task RetryPolicy_ConnectFailure_NextEndpoint()
    {
        await using var upstream = ScriptedHttp1Upstream.Start(exchange => exchange.SendAsync(Ok));
        int dead = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{dead}, {upstream.Address}", "http1",
            routeExtra: "        retries: { attempts: 2, retry_on: [connect-failure], backoff_base: 1ms }"));
        using var client = Http2ProxyTests.H2Client(proxy);

        // Round robin sends some requests to the dead endpoint first; their retries go to the live one.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("ok", await client.GetStringAsync("/a"));
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.True(metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"connect-failure\"}") >= 1);
    }

    [Fact]
    public async Task StalePooledConnection_NoPolicy_IdempotentRequestRetriedOnFreshOne()
    {
        // The second request arrives on the kept-alive connection just as the upstream gives up on it: read, then
        // closed without a byte of response (the keep-alive race). The proxy tries once more on a new connection.
        await using var upstream = ScriptedHttp1Upstream.Start(exchange =>
        {
            if (exchange.Index == 2)
            {
                exchange.Close();
                return Task.CompletedTask;
            }

            return exchange.SendAsync(Ok);
        });
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1"));
        using var client = Http2ProxyTests.H2Client(proxy);

        Assert.Equal("ok", await client.GetStringAsync("/first"));
        Assert.Equal("ok", await client.GetStringAsync("/second"));
        Assert.Equal(3, upstream.Requests);
        Assert.Equal(2, upstream.Connections);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_upstream_retries_total{cluster=\"backend\"}"));
    }

    [Fact]
    public async Task StalePooledConnection_NonIdempotent_NotRetried()
    {
        await using var upstream = ScriptedHttp1Upstream.Start(exchange =>
        {
            if (exchange.Index == 2)
            {
                exchange.Close();
                return Task.CompletedTask;
            }

            return exchange.SendAsync(Ok);
        });
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1"));
        using var client = Http2ProxyTests.H2Client(proxy);

        Assert.Equal("ok", await client.GetStringAsync("/first"));

        // The upstream may have acted on a POST it read before closing: sending it again is not the proxy's call.
        using var response = await client.PostAsync("/second", new StringContent(""));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream-reset", response.Headers.GetValues("x-proxy-error").Single());
        Assert.Equal(2, upstream.Requests);
    }

    [Fact]
    public async Task UpstreamClosingEveryConnection_EachRequestSucceeds()
    {
        // An upstream that closes after every response without saying so (no "Connection: close").
        await using var rude = new RudeHttpUpstream();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(rude.Address, "http1"));
        using var client = Http2ProxyTests.H2Client(proxy);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("ok", await client.GetStringAsync("/"));
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(5, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}"));
    }
}
