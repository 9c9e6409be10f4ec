using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>
/// An HTTP/2 client that resets its stream (RST_STREAM CANCEL, as HttpClient sends on cancellation) while the proxy
/// waits for the upstream's response headers: the upstream request is cancelled at once (RST_STREAM CANCEL on an
/// HTTP/2 upstream, the connection closed on an HTTP/1.1 one), and the request is still accounted for, as Envoy does:
/// an access-log line and a request metric with status 0 and the flag <c>DC</c> (downstream disconnect).
/// </summary>
public class Http2ClientResetTests : IDisposable
{
    private readonly AccessLogFolder _log = new("proxy-h2-reset-");

    private string AccessLog => _log.Path;

    [Theory]
    [InlineData("http2")]
    [InlineData("http1")]
    public async Task Http2Client_ResetBeforeResponseHeaders_UpstreamCancelledAndLoggedAsDownstreamDisconnect(string clusterProtocol)
    {
        var requestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamCancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = clusterProtocol == "http2"
            ? UnansweredUpstream.Http2(requestSeen, upstreamCancelled)
            : UnansweredUpstream.Http1(requestSeen, upstreamCancelled);
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            log: { access_log: {{AccessLog}} }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { name: api, match: { path_prefix: /api }, cluster: backend }
            clusters:
              - { name: backend, protocol: {{clusterProtocol}}, endpoints: [ {{upstream.Address}} ] }
            """);
        using var client = Http2ProxyTests.H2Client(proxy);

        using var cancel = new CancellationTokenSource();
        var send = client.GetAsync("/api/slow?x=1", cancel.Token);
        await requestSeen.Task.WaitAsync(TimeSpan.FromSeconds(15));
        cancel.Cancel(); // HttpClient resets the stream with CANCEL and keeps its connection
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);

        // The upstream never answers: only the client's reset can end its request.
        Assert.Equal(clusterProtocol == "http2" ? nameof(Http2ErrorCode.Cancel) : "closed", await upstreamCancelled.Task.WaitAsync(TimeSpan.FromSeconds(15)));

        var entry = Assert.Single(await AccessLogAsync(1));
        Assert.Equal(0, entry.GetProperty("status").GetInt32());
        Assert.Equal("DC", entry.GetProperty("response_flags").GetString());
        Assert.Equal("HTTP/2", entry.GetProperty("protocol").GetString());
        Assert.Equal("/api/slow", entry.GetProperty("path").GetString());
        Assert.Equal("api", entry.GetProperty("route").GetString());
        Assert.Equal("backend", entry.GetProperty("cluster").GetString());
        Assert.Equal(upstream.Address, entry.GetProperty("upstream_host").GetString());
        Assert.Equal(1, entry.GetProperty("attempts").GetInt32());
        Assert.Equal(0, entry.GetProperty("bytes_sent").GetInt64());

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"0\",response_flags=\"DC\"}"));

        // The connection stays usable: the reset ended one stream, not the client's connection.
        Assert.Equal(1, metrics.Value("proxy_listener_connections_opened_total{listener=\"web\"}"));
        Assert.Equal(0, metrics.Value("proxy_listener_connections_closed_total{listener=\"web\"}"));
    }

    /// <summary>A raw client that closes its whole connection (no RST_STREAM) while the upstream has not answered.</summary>
    [Fact]
    public async Task Http2Client_ConnectionClosedBeforeResponseHeaders_UpstreamCancelledAndLoggedAsDownstreamDisconnect()
    {
        var requestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamCancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = UnansweredUpstream.Http2(requestSeen, upstreamCancelled);
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            log: { access_log: {{AccessLog}} }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { name: api, match: { path_prefix: /api }, cluster: backend }
            clusters:
              - { name: backend, protocol: http2, endpoints: [ {{upstream.Address}} ] }
            """);
        var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
        client.Headers(1, client.RequestBlock("POST", "/api/upload", ("content-length", "4")), endStream: false);
        client.Data(1, "ab"u8.ToArray(), endStream: false);
        await client.FlushAsync();
        await requestSeen.Task.WaitAsync(TimeSpan.FromSeconds(15));
        client.Dispose();

        Assert.Equal(nameof(Http2ErrorCode.Cancel), await upstreamCancelled.Task.WaitAsync(TimeSpan.FromSeconds(15)));
        var entry = Assert.Single(await AccessLogAsync(1));
        Assert.Equal(0, entry.GetProperty("status").GetInt32());
        Assert.Equal("DC", entry.GetProperty("response_flags").GetString());
        Assert.Equal("POST", entry.GetProperty("method").GetString());
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"0\",response_flags=\"DC\"}") == 1,
            TimeSpan.FromSeconds(15)));
    }

    /// <summary>
    /// The client resets the stream once the response headers and some body reached it, while the upstream still
    /// sends: the request is logged with the status that went out and <c>DC</c> (not <c>UC</c>: the upstream did
    /// nothing wrong), and the upstream's sending is ended.
    /// </summary>
    [Theory]
    [InlineData("http2")]
    [InlineData("http1")]
    public async Task Http2Client_ResetDuringResponseBody_LoggedAsDownstreamDisconnect(string clusterProtocol)
    {
        await using var upstream = DrippingUpstream.Start(clusterProtocol);
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            log: { access_log: {{AccessLog}} }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { name: api, match: { path_prefix: /api }, cluster: backend }
            clusters:
              - { name: backend, protocol: {{clusterProtocol}}, endpoints: [ {{upstream.Address}} ] }
            """);
        using var client = Http2ProxyTests.H2Client(proxy);

        using (var response = await client.GetAsync("/api/drip", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStreamAsync();
            Assert.True(await body.ReadAsync(new byte[64]) > 0);
        } // disposed mid-body: HttpClient resets the stream with CANCEL

        await upstream.Stopped.WaitAsync(TimeSpan.FromSeconds(15));
        var entry = Assert.Single(await AccessLogAsync(1));
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal("DC", entry.GetProperty("response_flags").GetString());
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"DC\"}"));

        // The reset ended one stream, not the client's connection.
        Assert.Equal(0, metrics.Value("proxy_listener_connections_closed_total{listener=\"web\"}"));
    }

    private Task<List<JsonElement>> AccessLogAsync(int count) => _log.ReadAsync(count);

    public void Dispose() => _log.Dispose();
}
