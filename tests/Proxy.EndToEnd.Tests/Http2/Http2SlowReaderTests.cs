using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Allocation;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// An HTTP/2 client that asks for many large responses and never reads them (no WINDOW_UPDATE past the initial
/// 65,535-byte windows, RFC 9113, 5.2) must not make the proxy buffer those bodies: it stops reading each upstream
/// once a few blocks wait for the client's window, and the responses wait in the kernel and the upstream instead.
/// Runs the published binary (its own block pool, whose slab gauge counts every buffer the bodies took), beside the
/// allocation tests so no other test competes for the cores while the upstream is watched for progress.
/// </summary>
[Collection(nameof(AllocationCollection))]
public class Http2SlowReaderTests
{
    private const int Streams = 100; // the proxy's SETTINGS_MAX_CONCURRENT_STREAMS
    private const int BodyBytes = 1024 * 1024;

    // What one stream may hold: an HTTP/1.1 upstream's read pauses at 32 KiB unsent
    // (TransportOptions.UpstreamPauseReadThreshold), plus the 16 KiB read in flight when it does, plus a block of the
    // client's side. Before, each stream held the 256 KiB pipe threshold: 100 streams took 27 MiB of blocks.
    private const long AllowedBytesPerStream = 64 * 1024;

    // Slabs are carved 512 KiB at a time; the HTTP/2 connections' own blocks; an HTTP/2 upstream's 1 MiB connection window.
    private const long AllowedFixedBytes = 2 * 1024 * 1024;

    [SkippableFact]
    public async Task UnreadLargeResponses_Http1Upstream_ProxyBuffersABoundedAmountPerStream()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        using var upstream = new BulkHttp1Upstream(BodyBytes);
        await AssertBoundedAsync(upstream.Address.ToString()!, "http1", "/bulk",
            // Every response has started; once the upstream's sends stop making progress, the proxy has read all it
            // is going to read (with the old 256 KiB pipes, a quarter MiB per stream).
            () => Task.FromResult(upstream.QuietMilliseconds > 1000),
            () => $"the upstream wrote {upstream.Written / 1048576.0:F1} MiB");
    }

    /// <summary>
    /// An HTTP/2 upstream is held back by the windows the proxy grants it (256 KiB a stream, 1 MiB a connection),
    /// which it renews only as the client takes the bytes.
    /// </summary>
    [SkippableFact]
    public async Task UnreadLargeResponses_Http2Upstream_ProxyBuffersABoundedAmountPerStream()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var upstream = await KestrelUpstream.StartAsync("bulk", HttpProtocols.Http2);
        BinaryProxy? watched = null;
        double last = -1;
        long stableSince = Environment.TickCount64;
        await AssertBoundedAsync(upstream.Address, "http2", "/bytes/" + BodyBytes,
            // Kestrel does not say what it wrote: wait until the gauge has not moved for a second.
            async () =>
            {
                double now = await watched!.MetricAsync("proxy_buffer_pool_allocated_bytes");
                if (now != last)
                {
                    last = now;
                    stableSince = Environment.TickCount64;
                }

                return Environment.TickCount64 - stableSince > 1000;
            },
            () => "",
            proxy => watched = proxy);
    }

    private static async Task AssertBoundedAsync(string upstream, string protocol, string path, Func<Task<bool>> settled, Func<string> upstreamSays, Action<BinaryProxy>? started = null)
    {
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
              - { name: bulk, endpoints: [ {{upstream}} ], protocol: {{protocol}} }
            """, adminPort);
        started?.Invoke(proxy);
        double before = await proxy.MetricAsync("proxy_buffer_pool_allocated_bytes");

        using var client = await RawHttp2Client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listenPort));
        for (int i = 0; i < Streams; i++)
        {
            client.Headers(1 + 2 * i, client.RequestBlock("GET", path), endStream: true);
        }

        await client.FlushAsync();
        int headers = 0;
        await client.ReadUntilAsync(f => f.Type == Http2FrameType.Headers && ++headers == Streams, TimeSpan.FromSeconds(30));
        Assert.Equal(Streams, headers);

        Assert.True(await TcpClientHelpers.EventuallyAsync(settled, TimeSpan.FromSeconds(30)),
            "the upstream kept sending: the proxy never stopped reading the unread responses");
        double grown = await proxy.MetricAsync("proxy_buffer_pool_allocated_bytes") - before;
        long allowed = Streams * AllowedBytesPerStream + AllowedFixedBytes;
        Assert.True(grown <= allowed,
            $"the proxy took {grown / 1048576:F1} MiB of buffers for {Streams} unread responses (at most {allowed / 1048576.0:F1} MiB allowed); {upstreamSays()}");
    }
}
