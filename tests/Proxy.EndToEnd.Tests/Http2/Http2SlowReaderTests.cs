using Proxy.EndToEnd.Tests.Allocation;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// An HTTP/2 client that asks for many large responses and never reads them (no WINDOW_UPDATE past the initial
/// 65,535-byte windows, RFC 9113, 5.2) must not make the proxy buffer those bodies: it stops reading each upstream
/// once a few blocks wait for the client's window, and the responses wait in the kernel and the upstream instead.
/// Runs the published binary (its own block pool, whose slab gauge counts every buffer the bodies took), alone
/// beside the allocation tests so no other test's connections move that gauge.
/// </summary>
[Collection(nameof(AllocationCollection))]
public class Http2SlowReaderTests
{
    private const int Streams = 100; // the proxy's SETTINGS_MAX_CONCURRENT_STREAMS
    private const int BodyBytes = 1024 * 1024;

    // What one stream may hold: the upstream read pauses at 32 KiB unsent (TransportOptions.UpstreamPauseReadThreshold),
    // plus the 16 KiB read in flight when it does, plus a block of the client's side. Before the fix each stream held
    // the 256 KiB pipe threshold: 100 streams took 27 MiB of blocks.
    private const long AllowedBytesPerStream = 64 * 1024;
    private const long AllowedFixedBytes = 2 * 1024 * 1024; // slabs are carved 512 KiB at a time; the HTTP/2 connection's own blocks

    [SkippableFact]
    public async Task UnreadLargeResponses_Http1Upstream_ProxyBuffersABoundedAmountPerStream()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var upstream = new BulkHttp1Upstream(BodyBytes);
        int listenPort = TcpClientHelpers.UnusedPort(), adminPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            log: { level: error }
            listeners:
              - name: web
                address: 127.0.0.1:{{listenPort}}
                protocol: http
                routes: [ { match: { path_prefix: / }, cluster: bulk } ]
            clusters:
              - { name: bulk, endpoints: [ {{upstream.Address}} ] }
            """, adminPort);
        double before = await proxy.MetricAsync("proxy_buffer_pool_allocated_bytes");

        using var client = await RawHttp2Client.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, listenPort));
        for (int i = 0; i < Streams; i++)
        {
            client.Headers(1 + 2 * i, client.RequestBlock("GET", $"/bulk/{i}"), endStream: true);
        }

        await client.FlushAsync();
        int headers = 0;
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Headers && ++headers == Streams, TimeSpan.FromSeconds(30));
        Assert.Equal(Streams, headers);

        // Every response has started; wait until the upstream's sends stop making progress: the proxy has then read
        // all it is going to read (with the old 256 KiB pipes, a quarter MiB per stream).
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(upstream.QuietMilliseconds > 1000), TimeSpan.FromSeconds(30)),
            "the upstream kept sending: the proxy never stopped reading the unread responses");
        double grown = await proxy.MetricAsync("proxy_buffer_pool_allocated_bytes") - before;
        long allowed = Streams * AllowedBytesPerStream + AllowedFixedBytes;
        Assert.True(grown <= allowed,
            $"the proxy took {grown / 1048576:F1} MiB of buffers for {Streams} unread responses (at most {allowed / 1048576.0:F1} MiB allowed); the upstream wrote {upstream.Written / 1048576.0:F1} MiB");
    }
}
