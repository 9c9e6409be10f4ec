using System.Net.Sockets;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Observability;

/// <summary>
/// A client that leaves while its request is still with the upstream, at moments the wait for the response head alone
/// would not see: an HTTP/1.1 client that closes its connection mid-body (the body streaming upstream), once its
/// streamed body went upstream whole, or after sending the bytes of a pipelined next request, and an HTTP/2 client that
/// resets its stream mid-body. The proxy
/// notices at once: the upstream request is cancelled (the HTTP/1.1 upstream connection closed, the HTTP/2 upstream
/// stream reset with CANCEL), and the request is recorded with status 0 and <c>DC</c>. The upstream never answers,
/// so only the client's going away can end its request: the bound on the wait is not a timing assertion.
/// </summary>
public class ClientLeavesMidRequestTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly AccessLogFolder _log = new("proxy-leaves-mid-request-");

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

    private static UnansweredUpstream Unanswered(string clusterProtocol, TaskCompletionSource seen, TaskCompletionSource<string> cancelled) =>
        clusterProtocol == "http2" ? UnansweredUpstream.Http2(seen, cancelled) : UnansweredUpstream.Http1(seen, cancelled);

    private static string Cancelled(string clusterProtocol) => clusterProtocol == "http2" ? nameof(Http2ErrorCode.Cancel) : "closed";

    private static async Task CloseAsync(Socket client, string close)
    {
        if (close == "rst")
        {
            client.LingerState = new LingerOption(true, 0); // the close sends RST
            client.Dispose();
            return;
        }

        client.Shutdown(SocketShutdown.Send); // FIN; the client still reads
        Assert.Equal("", await client.ReadToEndAsync(Wait)); // no answer, and the connection closed
        client.Dispose();
    }

    private async Task AssertLoggedAsDownstreamDisconnectAsync(RunningProxy proxy, string method, string path, string protocol)
    {
        var entry = Assert.Single(await _log.ReadAsync(1));
        Assert.Equal(0, entry.GetProperty("status").GetInt32());
        Assert.Equal("DC", entry.GetProperty("response_flags").GetString());
        Assert.Equal(method, entry.GetProperty("method").GetString());
        Assert.Equal(path, entry.GetProperty("path").GetString());
        Assert.Equal(protocol, entry.GetProperty("protocol").GetString());
        Assert.Equal("backend", entry.GetProperty("cluster").GetString());
        Assert.Equal(0, entry.GetProperty("bytes_sent").GetInt64());
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"api\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"0\",response_flags=\"DC\"}"));
    }

    [Theory]
    [MemberData(nameof(ClustersAndCloses))]
    public async Task Http1Client_LeavesMidBody_UpstreamCancelledAtOnceAndLoggedAsDownstreamDisconnect(string clusterProtocol, string close)
    {
        var requestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamCancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = Unanswered(clusterProtocol, requestSeen, upstreamCancelled);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));

        // A chunked body streams to the upstream as it arrives; the client leaves after its first chunk.
        await client.SendAsync("PUT /api/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        await requestSeen.Task.WaitAsync(Wait);
        await CloseAsync(client, close);

        Assert.Equal(Cancelled(clusterProtocol), await upstreamCancelled.Task.WaitAsync(Wait));
        await AssertLoggedAsDownstreamDisconnectAsync(proxy, "PUT", "/api/upload", "HTTP/1.1");
    }

    [Theory]
    [MemberData(nameof(ClustersAndCloses))]
    public async Task Http1Client_LeavesAfterPipelinedBytes_UpstreamCancelledAtOnceAndLoggedAsDownstreamDisconnect(string clusterProtocol, string close)
    {
        var requestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamCancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = Unanswered(clusterProtocol, requestSeen, upstreamCancelled);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await client.SendAsync("GET /api/slow HTTP/1.1\r\nHost: a\r\n\r\n");
        await requestSeen.Task.WaitAsync(Wait);

        // The next request arrives while the first waits (pipelining), then the client leaves: apart, so the proxy
        // sees the bytes before the close.
        await client.SendAsync("GET /api/next HTTP/1.1\r\nHost: a\r\n\r\n");
        await Task.Delay(200);
        await CloseAsync(client, close);

        Assert.Equal(Cancelled(clusterProtocol), await upstreamCancelled.Task.WaitAsync(Wait));
        await AssertLoggedAsDownstreamDisconnectAsync(proxy, "GET", "/api/slow", "HTTP/1.1"); // the pipelined one never went upstream
    }

    /// <summary>
    /// An upload: the whole chunked body went upstream, then the bytes of a pipelined next request, then the client
    /// leaves while the upstream has not answered.
    /// </summary>
    [Theory]
    [MemberData(nameof(ClustersAndCloses))]
    public async Task Http1Client_LeavesAfterUploadAndPipelinedBytes_UpstreamCancelledAtOnceAndLoggedAsDownstreamDisconnect(string clusterProtocol, string close)
    {
        var requestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamCancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = Unanswered(clusterProtocol, requestSeen, upstreamCancelled);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await client.SendAsync("PUT /api/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        await requestSeen.Task.WaitAsync(Wait);
        await client.SendAsync("0\r\n\r\nGET /api/next HTTP/1.1\r\nHost: a\r\n\r\n");
        await Task.Delay(200);
        await CloseAsync(client, close);

        Assert.Equal(Cancelled(clusterProtocol), await upstreamCancelled.Task.WaitAsync(Wait));
        await AssertLoggedAsDownstreamDisconnectAsync(proxy, "PUT", "/api/upload", "HTTP/1.1");
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task Http2Client_ResetsStreamMidBody_UpstreamCancelledAtOnceAndLoggedAsDownstreamDisconnect(string clusterProtocol)
    {
        var requestSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamCancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = Unanswered(clusterProtocol, requestSeen, upstreamCancelled);
        await using var proxy = await RunningProxy.StartAsync(Config(upstream.Address, clusterProtocol));
        using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));

        // No content-length: the body streams upstream as it comes; the stream is reset after its first bytes.
        client.Headers(1, client.RequestBlock("PUT", "/api/upload"), endStream: false);
        client.Data(1, "hello"u8.ToArray(), endStream: false);
        await client.FlushAsync();
        await requestSeen.Task.WaitAsync(Wait);
        Http2FrameWriter.WriteRstStream(client.Output, 1, Http2ErrorCode.Cancel);
        await client.FlushAsync();

        Assert.Equal(Cancelled(clusterProtocol), await upstreamCancelled.Task.WaitAsync(Wait));
        await AssertLoggedAsDownstreamDisconnectAsync(proxy, "PUT", "/api/upload", "HTTP/2");
    }

    public void Dispose() => _log.Dispose();
}
