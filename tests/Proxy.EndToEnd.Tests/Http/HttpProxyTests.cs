using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>HTTP/1.1 through the proxy with real clients (HttpClient, curl, raw sockets) and a Kestrel upstream.</summary>
public class HttpProxyTests
{
    private static HttpClient Client(RunningProxy proxy) => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 1 })
    {
        BaseAddress = new Uri($"http://{proxy.Listener("web")}"),
        Timeout = TimeSpan.FromSeconds(60),
    };

    [Fact]
    public async Task KeepAlive_ManyRequestsOneClientConnection_ReuseOneUpstreamConnection()
    {
        await using var upstream = await KestrelUpstream.StartAsync("a");
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var client = Client(proxy);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("hello from a", await client.GetStringAsync("/hello"));
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_listener_connections_opened_total{listener=\"web\"}"));
        Assert.Equal(1, metrics.Value("proxy_upstream_connections_total{cluster=\"backend\"}"));
        Assert.Equal(20, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}"));
        Assert.Equal(20, metrics.Value("istio_request_duration_milliseconds_count{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}"));
    }

    [Fact]
    public async Task Headers_ForwardedAddedHopByHopRemoved()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /headers HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive, x-secret\r\nX-Secret: drop me\r\nKeep-Alive: timeout=5\r\nX-Forwarded-For: 10.1.1.1\r\nX-Custom: kept\r\n\r\n");
        var response = await ReadOneResponseAsync(socket);

        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.Contains("x-custom: kept", response);
        Assert.Contains("x-forwarded-for: 10.1.1.1, 127.0.0.1", response);
        Assert.Contains("x-forwarded-proto: http", response);
        Assert.Contains("x-forwarded-host: example.test", response);
        Assert.Contains("x-request-id: ", response);
        Assert.DoesNotContain("x-secret", response);
        Assert.DoesNotContain("keep-alive: timeout", response);
    }

    [Fact]
    public async Task Pipelining_ThreeRequestsInOneWrite_ResponsesInOrder()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));

        await socket.SendAsync(
            "GET /bytes/5 HTTP/1.1\r\nHost: a\r\n\r\n" +
            "GET /slow/200 HTTP/1.1\r\nHost: a\r\n\r\n" +
            "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        var all = await socket.ReadToEndAsync();

        var first = all.IndexOf("content-length: 5", StringComparison.OrdinalIgnoreCase);
        var second = all.IndexOf("slow", StringComparison.Ordinal);
        var third = all.IndexOf("hello from upstream", StringComparison.Ordinal);
        Assert.True(first >= 0 && second > first && third > second, all);
        Assert.Equal(3, CountOccurrences(all, "HTTP/1.1 200"));
    }

    [Fact]
    public async Task Bodies_10MiBUploadBothFramings_ChecksumsMatch()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var client = Client(proxy);
        var payload = RandomNumberGenerator.GetBytes(10 * 1024 * 1024);
        var expected = $"{payload.Length} {Convert.ToHexString(SHA256.HashData(payload))}";

        // Content-Length framing.
        var withLength = await client.PostAsync("/sha256", new ByteArrayContent(payload));
        Assert.Equal(expected, await withLength.Content.ReadAsStringAsync());

        // Chunked framing (a stream of unknown length).
        var chunked = new StreamContent(new UnknownLengthStream(payload));
        var response = await client.PostAsync("/sha256", chunked);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Bodies_10MiBDownloadBothFramings_ChecksumsMatch()
    {
        const int size = 10 * 1024 * 1024;
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var client = Client(proxy);
        var expected = SHA256.HashData(KestrelUpstream.Pattern(size));

        using var withLength = await client.GetAsync($"/bytes/{size}");
        Assert.Equal(size, withLength.Content.Headers.ContentLength);
        Assert.Equal(expected, SHA256.HashData(await withLength.Content.ReadAsByteArrayAsync()));

        using var chunked = await client.GetAsync($"/chunked/{size}");
        Assert.True(chunked.Headers.TransferEncodingChunked);
        Assert.Equal(expected, SHA256.HashData(await chunked.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task Echo_StreamingBodyBothWays_RoundTrips()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var client = Client(proxy);
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var response = await client.PostAsync("/echo", new StreamContent(new UnknownLengthStream(payload)));
        Assert.Equal(payload, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HeadNoContentNotModified_NoBodyAndConnectionStaysUsable()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));

        await socket.SendAsync("HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n");
        var head = await ReadOneResponseAsync(socket, bodyExpected: false);
        Assert.StartsWith("HTTP/1.1 200", head);

        await socket.SendAsync("GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 204", await ReadOneResponseAsync(socket, bodyExpected: false));

        await socket.SendAsync("GET /status/304 HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 304", await ReadOneResponseAsync(socket, bodyExpected: false));

        await socket.SendAsync("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
        var last = await ReadOneResponseAsync(socket);
        Assert.EndsWith("hello from upstream", last);
    }

    [Fact]
    public async Task ExpectContinue_InterimResponseRelayedThenBody()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));

        await socket.SendAsync("POST /sha256 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        var interim = await socket.ReadLineAsync();
        Assert.StartsWith("HTTP/1.1 100", interim);
        Assert.Equal("\r", await socket.ReadLineAsync());

        await socket.SendAsync("hello");
        var response = await ReadOneResponseAsync(socket);
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.EndsWith($"5 {Convert.ToHexString(SHA256.HashData("hello"u8))}", response);
    }

    [Fact]
    public async Task WebSocket_UpgradeThroughProxy_Echoes()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{proxy.Listener("web")}/ws"), CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            var message = Encoding.UTF8.GetBytes($"message {i}");
            await ws.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[100];
            var received = await ws.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal($"message {i}", Encoding.UTF8.GetString(buffer, 0, received.Count));
        }

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketState.Closed, ws.State);
    }

    [Fact]
    public async Task UpstreamKilledMidBody_ClientSeesTruncationAndFlagIsCounted()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
        await socket.SendAsync("GET /abort-mid-body HTTP/1.1\r\nHost: a\r\n\r\n");

        var all = await socket.ReadToEndAsync(TimeSpan.FromSeconds(20));
        Assert.StartsWith("HTTP/1.1 200", all);
        Assert.True(all.Length < 1_000_000, "the body must be cut short, not completed");

        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"UC\"}") == 1));
    }

    [Fact]
    public async Task Curl_GetThroughProxy_Works()
    {
        await using var upstream = await KestrelUpstream.StartAsync("curl-target");
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(upstream.Address));
        var (exit, output) = await RunAsync("curl", $"-s -S --max-time 20 http://{proxy.Listener("web")}/hello http://{proxy.Listener("web")}/hello");
        Assert.Equal(0, exit);
        Assert.Equal("hello from curl-targethello from curl-target", output);
    }

    [Fact]
    public async Task Errors_NoRouteConnectFailureTimeout_AnsweredWithFlags()
    {
        await using var upstream = await KestrelUpstream.StartAsync();
        var dead = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { match: { path_prefix: /dead }, cluster: dead }
                  - { match: { path_prefix: /slow }, cluster: live, timeout: 300ms }
                  - { match: { host: only.example }, cluster: live }
            clusters:
              - { name: dead, endpoints: [ 127.0.0.1:{{dead}} ] }
              - { name: live, endpoints: [ {{upstream.Address}} ] }
            """);
        using var client = Client(proxy);

        using var noRoute = await client.GetAsync("/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, noRoute.StatusCode);
        Assert.Equal("no-route", noRoute.Headers.GetValues("x-proxy-error").Single());

        using var refused = await client.GetAsync("/dead");
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Equal("upstream-connect-failure", refused.Headers.GetValues("x-proxy-error").Single());

        using var slow = await client.GetAsync("/slow/5000");
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        Assert.Equal("upstream-timeout", slow.Headers.GetValues("x-proxy-error").Single());

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"-\",destination_service=\"-\",request_protocol=\"http\",response_code=\"404\",response_flags=\"NR\"}"));
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"dead\",request_protocol=\"http\",response_code=\"502\",response_flags=\"UF\"}"));
        Assert.Equal(1, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-1\",destination_service=\"live\",request_protocol=\"http\",response_code=\"504\",response_flags=\"UT\"}"));
    }

    [Fact]
    public async Task StaleReusedConnection_IdempotentRequestRetriedOnFreshOne()
    {
        // An upstream that closes after every response without saying so (no "Connection: close").
        await using var rude = new RudeHttpUpstream();
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(rude.Address));
        using var client = Client(proxy);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("ok", await client.GetStringAsync("/"));
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(5, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}"));
    }

    [Fact]
    public async Task ResetReusedConnection_RequestRetriedOnFreshOne_ClientNeverCutOff()
    {
        // The pooled connection was reset (RST) while idle, so writing the next request on it fails
        // in the send itself: that is the upstream's failure, to retry or answer, never a reason to
        // close the client's connection without a response.
        await using var rude = new RudeHttpUpstream(reset: true);
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(rude.Address));
        using var client = Client(proxy);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("ok", await client.GetStringAsync("/"));
            await Task.Delay(80); // the upstream resets 50 ms after answering: the pooled connection is dead
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(20, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}"));
    }

    [Fact]
    public async Task ResetPooledConnection_RawKeepAliveClient_EveryRequestAnswered()
    {
        // The receive loop of a pooled connection the upstream reset (RST) while idle ends with the
        // reset latched in the connection's input: the pool's "still open?" look at it on rent threw
        // that, and the client's connection was closed (FIN) without a response, as if the client had
        // gone away. HttpClient hides this (it resends a request whose reused connection closed before
        // any response byte); a raw keep-alive client, like the load generator, does not.
        await using var rude = new RudeHttpUpstream(reset: true);
        await using var proxy = await RunningProxy.StartAsync(HttpConfigs.Single(rude.Address));
        using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));

        for (var i = 0; i < 3; i++)
        {
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            var status = await socket.ReadLineAsync();
            Assert.True(status.StartsWith("HTTP/1.1 200", StringComparison.Ordinal), $"request {i + 1}: the proxy answered '{status}' (empty: closed the client connection without a response)");
            Assert.EndsWith("ok", await ReadOneResponseAsync(socket));
            await Task.Delay(250); // the upstream resets 50 ms after answering: the pooled connection is dead, its reset latched
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(3, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}"));
    }

    [SkippableFact]
    public async Task ResetPooledConnection_IdleSweep_ClosesItAndTheProcessLives()
    {
        // The idle sweep (every fifth pool tick) looks at each idle connection the same way as a
        // rent: a reset latched in one threw out of the sweep's timer callback and ended the process.
        // The published binary runs it, so that ending cannot take the test host with it.
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var rude = new RudeHttpUpstream(reset: true);
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: / }, cluster: backend } ]
            clusters:
              - { name: backend, endpoints: [ {{rude.Address}} ] }
            """, adminPort);
        using (var socket = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort)))
        {
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200", await socket.ReadToEndAsync());
        }

        // The connection is pooled and reset 50 ms later; at least one sweep runs in the next six seconds.
        await Task.Delay(Proxy.Runtime.ProxyRuntime.PoolSweepPeriod * 6.5);
        Assert.False(proxy.HasExited, "the proxy process ended while sweeping a reset idle connection");
        Assert.Equal(0, await proxy.MetricAsync("proxy_upstream_pool_idle_connections{cluster=\"backend\"}"));

        using var next = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));
        await next.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", await next.ReadToEndAsync());
    }

    internal static async Task<(int Exit, string Output)> RunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    /// <summary>Reads one response: head, then a Content-Length or chunked body (or none).</summary>
    internal static async Task<string> ReadOneResponseAsync(Socket socket, bool bodyExpected = true)
    {
        var head = new StringBuilder();
        string line;
        while ((line = await socket.ReadLineAsync()) != "\r")
        {
            head.Append(line).Append('\n');
        }

        var text = head.ToString();
        if (!bodyExpected)
        {
            return text;
        }

        var lengthLine = text.Split('\n').FirstOrDefault(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
        if (lengthLine is not null)
        {
            var length = int.Parse(lengthLine.Split(':')[1].Trim());
            return text + (length > 0 ? await socket.ReadExactlyAsync(length) : "");
        }

        var body = new StringBuilder();
        while (true)
        {
            var size = Convert.ToInt32((await socket.ReadLineAsync()).Trim(), 16);
            if (size == 0)
            {
                await socket.ReadLineAsync();
                return text + body;
            }

            body.Append(await socket.ReadExactlyAsync(size));
            await socket.ReadLineAsync();
        }
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
