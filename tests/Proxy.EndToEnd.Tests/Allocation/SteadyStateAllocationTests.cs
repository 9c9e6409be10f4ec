using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Proxy.Benchmarks.Forwarding;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Allocation;

/// <summary>Runs alone: the clients here must not compete with other tests for the two cores.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public class AllocationCollection;

/// <summary>
/// Counts the managed allocations of the published binary (its own process and heap, production scheduling) per
/// request in steady state, from its <c>proxy_gc_allocated_bytes</c> gauge: keep-alive HTTP/1.1 requests to an
/// HTTP/1.1 upstream and to an HTTP/2 upstream, HTTP/2 streams multiplexed on one connection to an HTTP/2 upstream
/// and to an HTTP/1.1 upstream, and HTTP/1.1 to HTTP/1.1 and HTTP/2 to HTTP/2 again with an access log to a file (the
/// lines are written, not dropped). The clients and upstreams are raw sockets.
/// Reading /metrics itself allocates; that cost is measured by two reads with nothing between them and subtracted.
/// BenchmarkDotNet shows the same paths at 0 B (bench Http1ForwardingBenchmarks, Http2ForwardingBenchmarks,
/// AccessLogWriterBenchmarks).
/// </summary>
[Collection(nameof(AllocationCollection))]
public class SteadyStateAllocationTests
{
    private const double AllowedBytesPerRequest = 16;
    private const int Http1Connections = 4; // keep-alive HTTP/1.1 connections of MeasureHttp1KeepAliveAsync
    private static readonly byte[] Request = "GET /api/items?id=7 HTTP/1.1\r\nHost: alloc.test\r\nUser-Agent: t/1\r\nX-Request-Id: 4bf92f35-77b3-4da6-a3ce-929d0e0e4736\r\n\r\n"u8.ToArray();
    private static readonly byte[] Response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"u8.ToArray();

    [SkippableFact]
    public Task Http1KeepAliveRequests_SteadyState_AllocateNothing() => Http1KeepAliveRequestsAsync(accessLog: false);

    /// <summary>
    /// A route timeout arms the connection's reused timer around each wait for the response head (never fired here),
    /// beside the watch on the client's side that every wait has: no task, timer or token per request.
    /// </summary>
    [SkippableFact]
    public Task Http1KeepAliveRequests_WithRouteTimeout_AllocateNothing() => Http1KeepAliveRequestsAsync(accessLog: false, routeTimeout: true);

    /// <summary>
    /// With an access log to a file, every request fills and publishes an entry and the writer formats and writes
    /// it: neither side may allocate per line (no timed wait or task per wake-up of the writer).
    /// </summary>
    [SkippableFact]
    public Task Http1KeepAliveRequests_WithAccessLogToFile_AllocateNothing() => Http1KeepAliveRequestsAsync(accessLog: true);

    /// <summary>
    /// Field changes with variables, a set_if_absent, a removal and a path rewrite on the route, and a response field
    /// naming the endpoint: rendered into the exchange's reused buffers, nothing per request.
    /// </summary>
    [SkippableFact]
    public Task Http1KeepAliveRequests_WithHeaderChangesAndRewrite_AllocateNothing() => Http1KeepAliveRequestsAsync(accessLog: false, routeExtra: RouteChanges);

    /// <summary>The HTTP/2 side of <see cref="Http1KeepAliveRequests_WithHeaderChangesAndRewrite_AllocateNothing"/>.</summary>
    [SkippableFact]
    public Task Http2Streams_WithHeaderChangesAndRewrite_AllocateNothing() => Http2StreamsAsync(routeTimeout: false, accessLog: false, routeExtra: RouteChanges);

    private const string RouteChanges =
        ", name: api, prefix_rewrite: /v2/api, request_headers: { set: { x-env: prod, x-route: \"%ROUTE_NAME%\", x-client: \"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%\" }, "
        + "set_if_absent: { x-tenant: a }, add: { x-id: \"%REQ(x-request-id)%\" }, remove: [ user-agent ] }, "
        + "response_headers: { add: { x-served-by: \"%UPSTREAM_REMOTE_ADDRESS%\" }, set: { x-env: prod } }";

    /// <summary>
    /// The request's virtual host found by exact domain among others (a wildcard one, '*'), then a route matched by a
    /// path regex, a percent-decoded query parameter regex and an absent header: nothing per request.
    /// </summary>
    [SkippableFact]
    public Task Http1KeepAliveRequests_WithVirtualHostsRegexAndQueryMatch_AllocateNothing() => Http1KeepAliveRequestsAsync(accessLog: false, routing: VirtualHostRouting);

    /// <summary>The HTTP/2 side of <see cref="Http1KeepAliveRequests_WithVirtualHostsRegexAndQueryMatch_AllocateNothing"/>.</summary>
    [SkippableFact]
    public Task Http2Streams_WithVirtualHostsRegexAndQueryMatch_AllocateNothing() => Http2StreamsAsync(routeTimeout: false, accessLog: false, routing: VirtualHostRouting);

    private const string VirtualHostRouting =
        "virtual_hosts: [ { name: other, domains: [ \"other.test\", \"*.other.test\" ], routes: [ { cluster: api } ] }, "
        + "{ name: alloc, domains: [ \"alloc.test\", \"alloc.test:8443\" ], routes: [ { match: { path_regex: \"/api/[a-z]+\", "
        + "query: [ { name: id, regex: \"[0-9]+\" } ], headers: [ { name: x-debug, absent: true } ] }, cluster: api } ] }, "
        + "{ name: rest, domains: [ \"*\" ], routes: [ { match: { path_prefix: /none }, cluster: api } ] } ]";

    private static async Task Http1KeepAliveRequestsAsync(bool accessLog, bool routeTimeout = false, string routeExtra = "", string? routing = null)
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var log = new AccessLogFile(accessLog);
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        upstream.Listen(8);
        _ = ServeAsync(upstream);
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        string timeout = routeTimeout ? ", timeout: 30s" : "";
        routing ??= $"routes: [ {{ match: {{ path_prefix: /api }}, cluster: api{timeout}{routeExtra} }} ]";
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error{{log.Setting}} }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                {{routing}}
            clusters:
              - { name: api, endpoints: [ {{upstream.LocalEndPoint}} ] }
            """, adminPort);
        double perRequest = await MeasureHttp1KeepAliveAsync(proxy, listenPort);
        Assert.True(perRequest < AllowedBytesPerRequest, $"{perRequest:F1} bytes allocated per request");
        await log.AssertWrittenAsync(proxy, MeasuredRequests(10_000) * Http1Connections);
    }

    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Http1KeepAliveRequestsToHttp2Upstream_SteadyState_AllocateNothing(bool routeTimeout, bool routeChanges)
    {
        string routeExtra = routeChanges ? RouteChanges : "";
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var upstream = new LoopbackHttp2Upstream();
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();

        // A route timeout arms the connection's reused timer around the wait for the upstream stream's response
        // headers, never fired here: no task or timer per request, and the upstream streams go back to their pool.
        string timeout = routeTimeout ? ", timeout: 30s" : "";
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: /api }, cluster: api{{timeout}}{{routeExtra}} } ]
            clusters:
              - { name: api, protocol: http2, endpoints: [ 127.0.0.1:{{upstream.Port}} ] }
            """, adminPort);
        double perRequest = await MeasureHttp1KeepAliveAsync(proxy, listenPort);
        Assert.True(perRequest < AllowedBytesPerRequest, $"{perRequest:F1} bytes allocated per request");
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public Task Http2Streams_SteadyState_AllocateNothing(bool routeTimeout) => Http2StreamsAsync(routeTimeout, accessLog: false);

    /// <summary>The HTTP/2 side of <see cref="Http1KeepAliveRequests_WithAccessLogToFile_AllocateNothing"/>.</summary>
    [SkippableFact]
    public Task Http2Streams_WithAccessLogToFile_AllocateNothing() => Http2StreamsAsync(routeTimeout: false, accessLog: true);

    private static async Task Http2StreamsAsync(bool routeTimeout, bool accessLog, string routeExtra = "", string? routing = null)
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var log = new AccessLogFile(accessLog);
        using var upstream = new LoopbackHttp2Upstream();
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();

        // A route timeout arms the downstream stream's reused timer around the wait for the response headers, never
        // fired here: no task or timer per request, and the upstream streams still go back to their pool.
        string timeout = routeTimeout ? ", timeout: 30s" : "";
        routing ??= $"routes: [ {{ match: {{ path_prefix: /api }}, cluster: api{timeout}{routeExtra} }} ]";
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error{{log.Setting}} }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                {{routing}}
            clusters:
              - { name: api, protocol: http2, endpoints: [ 127.0.0.1:{{upstream.Port}} ] }
            """, adminPort);
        using var client = new RawHttp2Client("alloc.test", "/api/items?id=7");
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));

        // 16 streams at once per round trip: the per-stream objects are pooled, not merely reused one at a time.
        const int streams = 16;
        double perRoundTrip = await MeasureAsync(proxy, () => client.RoundTripAsync(streams), requests: 2_000);
        Assert.True(perRoundTrip / streams < AllowedBytesPerRequest, $"{perRoundTrip / streams:F1} bytes allocated per stream");
        await log.AssertWrittenAsync(proxy, MeasuredRequests(2_000) * streams);
    }

    [SkippableFact]
    public async Task Http2ThousandsOfStreams_SteadyState_AllocateNothing()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var upstream = new LoopbackHttp2Upstream();
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: /api }, cluster: api } ]
            clusters:
              - { name: api, protocol: http2, endpoints: [ 127.0.0.1:{{upstream.Port}} ] }
            """, adminPort);

        // h2load's shape in run-bench: 16 connections x 100 streams, so 1,600 downstream and 1,600 upstream streams
        // in flight. More than a small pool retains: the pools must hold a load's worth, or every burst reallocates.
        const int connections = 16, streams = 100;
        var clients = new RawHttp2Client[connections];
        for (var i = 0; i < connections; i++)
        {
            clients[i] = new RawHttp2Client("alloc.test", "/api/items?id=7");
            await clients[i].ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));
        }

        try
        {
            var rounds = new Task[connections];
            double perRound = await MeasureAsync(proxy, async () =>
            {
                for (var i = 0; i < connections; i++)
                {
                    rounds[i] = clients[i].RoundTripAsync(streams).AsTask();
                }

                await Task.WhenAll(rounds);
            }, requests: 12);
            double perStream = perRound / (connections * streams);
            Assert.True(perStream < AllowedBytesPerRequest, $"{perStream:F1} bytes allocated per stream");
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    [SkippableTheory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Http2StreamsToHttp1Upstream_SteadyState_AllocateNothing(bool routeTimeout, bool routeChanges)
    {
        string routeExtra = routeChanges ? RouteChanges : "";
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        upstream.Listen(64);
        _ = ServeAsync(upstream);
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();

        // A route timeout arms a timer per request (reused, like the HTTP/1.1 forwarder's), never fired here.
        string timeout = routeTimeout ? ", timeout: 30s" : "";
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: /api }, cluster: api{{timeout}}{{routeExtra}} } ]
            clusters:
              - { name: api, endpoints: [ {{upstream.LocalEndPoint}} ] }
            """, adminPort);
        using var client = new RawHttp2Client("alloc.test", "/api/items?id=7");
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));

        // 16 streams at once: 16 pooled HTTP/1.1 upstream connections, one request each per round trip.
        const int streams = 16;
        double perRoundTrip = await MeasureAsync(proxy, () => client.RoundTripAsync(streams), requests: 2_000);
        Assert.True(perRoundTrip / streams < AllowedBytesPerRequest, $"{perRoundTrip / streams:F1} bytes allocated per stream");
    }

    /// <summary>
    /// A route that answers by itself: the redirect's Location is built from each request straight into the response
    /// (HTTP/1.1) or a pooled buffer (HTTP/2), the direct response's bytes were made at load. Nothing per request.
    /// </summary>
    [SkippableTheory]
    [InlineData("redirect: { https_redirect: true, prefix_rewrite: /v2/, status: 308 }", 308)]
    [InlineData("direct_response: { status: 503, body: down for maintenance }", 503)]
    public async Task LocalAnswers_SteadyState_AllocateNothing(string action, int status)
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: /api }, {{action}} } ]
            """, adminPort);
        double perRequest = await MeasureHttp1KeepAliveAsync(proxy, listenPort, status);
        Assert.True(perRequest < AllowedBytesPerRequest, $"HTTP/1.1: {perRequest:F1} bytes allocated per request");

        using var client = new RawHttp2Client("alloc.test", "/api/items?id=7");
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));
        const int streams = 16;
        double perRoundTrip = await MeasureAsync(proxy, () => client.RoundTripAsync(streams), requests: 2_000);
        Assert.True(perRoundTrip / streams < AllowedBytesPerRequest, $"HTTP/2: {perRoundTrip / streams:F1} bytes allocated per stream");
    }

    /// <summary>Calls of the request <see cref="MeasureAsync"/> makes for <paramref name="requests"/>: a warm-up quarter and three windows.</summary>
    private static int MeasuredRequests(int requests) => requests / 4 + 3 * requests;

    /// <summary>
    /// Bytes the proxy allocated per request over four keep-alive HTTP/1.1 connections, each with one request in
    /// flight, as a load generator would.
    /// </summary>
    private static async Task<double> MeasureHttp1KeepAliveAsync(BinaryProxy proxy, int listenPort, int expectedStatus = 200)
    {
        const int connections = Http1Connections;
        var clients = new Socket[connections];
        var buffers = new byte[connections][];
        var length = 0;
        for (var i = 0; i < connections; i++)
        {
            clients[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await clients[i].ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));
            buffers[i] = new byte[4096];
            clients[i].Send(Request);
            await Task.Delay(100);
            length = clients[i].Receive(buffers[i]);

            // The measured requests must take the route, not the proxy's own 404.
            Assert.StartsWith($"HTTP/1.1 {expectedStatus} ", System.Text.Encoding.ASCII.GetString(buffers[i], 0, length), StringComparison.Ordinal);
        }

        try
        {
            var rounds = new Task[connections];
            double perRound = await MeasureAsync(proxy, async () =>
            {
                for (var i = 0; i < connections; i++)
                {
                    rounds[i] = RoundTripAsync(clients[i], buffers[i], length).AsTask();
                }

                await Task.WhenAll(rounds);
            }, requests: 10_000);
            return perRound / connections;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Bytes the proxy allocated per call of <paramref name="request"/>: the quietest of three windows after a warm-up.</summary>
    private static async Task<double> MeasureAsync(BinaryProxy proxy, Func<ValueTask> request, int requests)
    {
        for (var i = 0; i < requests / 4; i++)
        {
            await request();
        }

        var best = double.MaxValue;
        for (var window = 0; window < 3; window++)
        {
            double first = await proxy.MetricAsync("proxy_gc_allocated_bytes");
            double before = await proxy.MetricAsync("proxy_gc_allocated_bytes");
            double scrape = before - first;
            for (var i = 0; i < requests; i++)
            {
                await request();
            }

            double after = await proxy.MetricAsync("proxy_gc_allocated_bytes");
            best = Math.Min(best, Math.Max(0, after - before - scrape) / requests);
        }

        return best;
    }

    /// <summary>An access log file in a folder of its own (or none): the <c>log</c> setting that names it, and a check that its lines were written.</summary>
    private sealed class AccessLogFile : IDisposable
    {
        private readonly string? _folder;

        public AccessLogFile(bool enabled)
        {
            if (enabled)
            {
                _folder = Directory.CreateTempSubdirectory("proxy-alloc-log-").FullName;
            }
        }

        private string? PathName => _folder is null ? null : System.IO.Path.Combine(_folder, "access.log");

        /// <summary>Appended to the <c>log</c> mapping: <c>, access_log: FILE</c>, or nothing.</summary>
        public string Setting => PathName is null ? "" : $", access_log: {PathName}";

        /// <summary>
        /// Every request was accounted for (a line written, or dropped and counted when the writer thread fell behind
        /// the queue's 4,096 entries, which a starved CI machine can cause), and the file holds every written line.
        /// </summary>
        public async Task AssertWrittenAsync(BinaryProxy proxy, int requests)
        {
            if (PathName is null)
            {
                return;
            }

            // The writer flushes within its interval (200 ms): wait for the last lines, then compare.
            double written = 0, dropped = 0;
            await TcpClientHelpers.EventuallyAsync(async () =>
            {
                written = await proxy.MetricAsync("proxy_access_log_entries_total{result=\"written\"}");
                dropped = await proxy.MetricAsync("proxy_access_log_entries_total{result=\"dropped\"}");
                return written + dropped >= requests;
            }, TimeSpan.FromSeconds(10));
            Assert.True(written + dropped >= requests, $"{written} access log lines written and {dropped} dropped for {requests} requests");
            Assert.True(written >= requests / 2, $"only {written} access log lines written for {requests} requests ({dropped} dropped)");
            long lines = 0;
            using (var reader = new StreamReader(new FileStream(PathName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    Assert.StartsWith("{\"start_time\":", line);
                    lines++;
                }
            }

            Assert.True(lines >= written, $"{lines} lines in the access log, {written} counted as written");
        }

        public void Dispose()
        {
            if (_folder is not null)
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask RoundTripAsync(Socket client, byte[] buffer, int length)
    {
        await client.SendAsync(Request.AsMemory(), SocketFlags.None).ConfigureAwait(false);
        var received = 0;
        while (received < length)
        {
            received += await client.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None).ConfigureAwait(false);
        }
    }

    private static async Task ServeAsync(Socket listener)
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = AnswerAsync(connection);
        }
    }

    private static async Task AnswerAsync(Socket connection)
    {
        using var _ = connection;
        var buffer = new byte[16 * 1024];
        var pending = 0;
        try
        {
            while (true)
            {
                var read = await connection.ReceiveAsync(buffer.AsMemory(pending), SocketFlags.None);
                if (read == 0)
                {
                    return;
                }

                pending += read;
                var consumed = 0;
                int end;
                while ((end = buffer.AsSpan(consumed, pending - consumed).IndexOf("\r\n\r\n"u8)) >= 0)
                {
                    consumed += end + 4;
                    await connection.SendAsync(Response.AsMemory(), SocketFlags.None);
                }

                buffer.AsSpan(consumed, pending - consumed).CopyTo(buffer);
                pending -= consumed;
            }
        }
        catch (SocketException)
        {
        }
    }
}
