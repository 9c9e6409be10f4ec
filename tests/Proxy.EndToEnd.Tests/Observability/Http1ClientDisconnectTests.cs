using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Proxy.EndToEnd.Tests.Http;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>
/// An HTTP/1.1 client that closes its connection (FIN or RST) while the proxy waits for the upstream's response head:
/// the proxy notices at once, as Envoy does, cancels the upstream request (the HTTP/1.1 upstream connection is
/// closed, an HTTP/2 upstream stream reset with CANCEL) and records the request with status 0 and the flag
/// <c>DC</c>. Bytes of a pipelined next request arriving meanwhile are not a disconnect. A client that goes away
/// while the body is relayed is <c>DC</c> too, with the status that went out.
/// </summary>
public class Http1ClientDisconnectTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly AccessLogFolder _log = new("proxy-h1-disconnect-");

    public static TheoryData<string, string> ClustersAndCloses => new()
    {
        { "http1", "fin" },
        { "http1", "rst" },
        { "http2", "fin" },
        { "http2", "rst" },
    };

    public static TheoryData<string> Clusters => new() { "http1", "http2" };

    private string Config(string address, string clusterProtocol) => $$"""
        admin: { address: 127.0.0.1:0 }
        log: { access_log: {{_log.Path}} }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
              - { name: api, match: { path_prefix: /api }, cluster: backend }
        clusters:
          - { name: backend, protocol: {{clusterProtocol}}, endpoints: [ {{address}} ] }
        """;

    [Theory]
    [MemberData(nameof(ClustersAndCloses))]
    public async Task Http1Client_ClosesBeforeResponseHead_UpstreamCancelledAndLoggedAsDownstreamDisconnect(string clusterProtocol, string close)
    {
        var requestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamCancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = clusterProtocol == "http2"
            ? UnansweredUpstream.Http2(requestSeen, upstreamCancelled)
            : UnansweredUpstream.Http1(requestSeen, upstreamCancelled);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await client.SendAsync("GET /api/slow?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        await requestSeen.Task.WaitAsync(Wait);
        if (close == "rst")
        {
            client.LingerState = new LingerOption(true, 0); // the close sends RST
            client.Dispose();
        }
        else
        {
            client.Shutdown(SocketShutdown.Send); // FIN; the client still reads
        }

        // The upstream never answers: only the client's going away can end its request.
        Assert.Equal(clusterProtocol == "http2" ? nameof(Http2ErrorCode.Cancel) : "closed", await upstreamCancelled.Task.WaitAsync(Wait));
        if (close == "fin")
        {
            Assert.Equal("", await client.ReadToEndAsync(Wait)); // no answer, and the connection closed
            client.Dispose();
        }

        var entry = Assert.Single(await _log.ReadAsync(1));
        Assert.Equal(0, entry.GetProperty("status").GetInt32());
        Assert.Equal("DC", entry.GetProperty("response_flags").GetString());
        Assert.Equal("HTTP/1.1", entry.GetProperty("protocol").GetString());
        Assert.Equal("/api/slow", entry.GetProperty("path").GetString());
        Assert.Equal("api", entry.GetProperty("route").GetString());
        Assert.Equal("backend", entry.GetProperty("cluster").GetString());
        Assert.Equal(upstream.Address, entry.GetProperty("upstream_host").GetString());
        Assert.Equal(1, entry.GetProperty("attempts").GetInt32());
        Assert.Equal(0, entry.GetProperty("bytes_sent").GetInt64());
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"0\",response_flags=\"DC\"}"));
    }

    /// <summary>
    /// The next request's bytes arrive while the first waits for its upstream (pipelining): they wait in turn, and
    /// both are answered in order.
    /// </summary>
    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task Http1Client_PipelinedRequestArrivesDuringWait_NotADisconnect(string clusterProtocol)
    {
        var heldSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IAsyncDisposable server;
        string address;
        if (clusterProtocol == "http2")
        {
            var h2 = RawHttp2Upstream.Start(async exchange =>
            {
                if (exchange.Path == "/api/held")
                {
                    heldSeen.TrySetResult();
                    await release.Task;
                }

                await exchange.RespondAsync(200, exchange.Path[5..], ("content-length", (exchange.Path.Length - 5).ToString()));
            });
            (server, address) = (h2, h2.Address);
        }
        else
        {
            var h1 = ScriptedHttp1Upstream.Start(async exchange =>
            {
                if (exchange.Path == "/api/held")
                {
                    heldSeen.TrySetResult();
                    await release.Task;
                }

                string body = exchange.Path[5..];
                await exchange.SendAsync($"HTTP/1.1 200 OK\r\ncontent-length: {body.Length}\r\n\r\n{body}");
            });
            (server, address) = (h1, h1.Address);
        }

        await using var _ = server;
        await using var proxy = await RunningProxy.StartAsync(Config(address, clusterProtocol));
        using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await client.SendAsync("GET /api/held HTTP/1.1\r\nHost: a\r\n\r\n");
        await heldSeen.Task.WaitAsync(Wait);

        // The next request, in two writes, while the first waits.
        await client.SendAsync("GET /api/next HTTP/1.1\r\n");
        await Task.Delay(100);
        await client.SendAsync("Host: a\r\n\r\n");
        await Task.Delay(100);
        release.TrySetResult();

        Assert.EndsWith("held", await HttpProxyTests.ReadOneResponseAsync(client));
        Assert.EndsWith("next", await HttpProxyTests.ReadOneResponseAsync(client));
        var entries = await _log.ReadAsync(2);
        Assert.All(entries, entry => Assert.Equal(200, entry.GetProperty("status").GetInt32()));
        Assert.All(entries, entry => Assert.Equal("-", entry.GetProperty("response_flags").GetString()));
    }

    /// <summary>
    /// The client closes its connection once the response head reached it, while the upstream still sends the body:
    /// the request is logged with the status that went out and <c>DC</c> (not <c>UC</c>: the upstream did nothing
    /// wrong), and the upstream's sending is ended.
    /// </summary>
    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task Http1Client_ClosesDuringResponseBody_LoggedAsDownstreamDisconnect(string clusterProtocol)
    {
        await using var upstream = DrippingUpstream.Start(clusterProtocol);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await client.SendAsync("GET /api/drip HTTP/1.1\r\nHost: a\r\n\r\n");
        var first = new byte[256];
        var received = Encoding.ASCII.GetString(first, 0, await client.ReceiveAsync(first, SocketFlags.None).WaitAsync(Wait));
        Assert.StartsWith("HTTP/1.1 200", received);
        client.LingerState = new LingerOption(true, 0);
        client.Dispose();

        await upstream.Stopped.WaitAsync(Wait);
        var entry = Assert.Single(await _log.ReadAsync(1));
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal("DC", entry.GetProperty("response_flags").GetString());
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"DC\"}"));
    }

    public void Dispose() => _log.Dispose();
}
