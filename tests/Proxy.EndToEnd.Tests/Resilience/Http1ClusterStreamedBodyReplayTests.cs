using System.Net;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Resilience;

/// <summary>
/// Streamed request bodies (chunked, or a content-length over the 64 KiB read whole before a try) on HTTP/1.1
/// clusters, from HTTP/1.1 and HTTP/2 clients, under a route that retries: what each try took from the client is kept,
/// up to 64 KiB, so a try whose connection is closed or reset before any response byte is retried on a new connection
/// by replaying those bytes and streaming the rest, in the request's own framing. More than 64 KiB taken: not replayed.
/// </summary>
public class Http1ClusterStreamedBodyReplayTests
{
    private const int ReplayLimit = 64 * 1024;
    private const string Retries = "        retries: { attempts: 1, retry_on: [reset], backoff_base: 1ms }";

    public static TheoryData<string, string, bool> Cases => new()
    {
        { "h1", "chunked", true },
        { "h2", "chunked", true },
        { "h1", "length", false },
        { "h2", "length", false },
    };

    private static byte[] Pattern(int length)
    {
        var data = new byte[length];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 7 + i / 251);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task StreamedBody_UpstreamClosesMidBody_RetryReplaysWholeBodyOnNewConnection(string downstream, string framing, bool reset)
    {
        // Chunked: 6 KiB in six writes 100 ms apart. Length: 80 KiB (over the 64 KiB read whole first) in ten writes.
        // The first connection is closed (RST or FIN) once 2 KiB of body arrived, while the client is still sending.
        var payload = Pattern(framing == "chunked" ? 6 * 1024 : 80 * 1024);
        await using var upstream = FailFirstBodyUpstream.Start(failAfter: 2048, reset);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1", routeExtra: Retries));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        // PUT is idempotent, so a try that may have reached the upstream is retried under the policy.
        var content = new PausedContent(payload, pieces: framing == "chunked" ? 6 : 10, TimeSpan.FromMilliseconds(100), withLength: framing == "length");
        using var response = await client.SendAsync(Put(client, content));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"ok {payload.Length}", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Requests);
        var failed = await upstream.FailedPrefix.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.InRange(failed.Length, 2048, payload.Length - 1);
        Assert.Equal(payload.AsSpan(0, failed.Length).ToArray(), failed);
        Assert.Equal(payload, Assert.Single(upstream.Bodies)); // the second connection got the whole body, byte for byte

        // The retry is framed as the request was.
        var retried = upstream.Heads.ToArray()[1].ToLowerInvariant();
        Assert.Contains(framing == "chunked" ? "transfer-encoding: chunked" : $"content-length: {payload.Length}", retried);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"reset\"}"));
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task StreamedBody_ClosedAfterReplayLimit_NotReplayedAnswered502AndProxyKeepsServing(string downstream)
    {
        // The HTTP/1.1 client's connection is closed once its whole body is upstream: the proxy has then read all of
        // it, so the connection it closes after the error has nothing unread that would turn its FIN into a reset. The
        // HTTP/2 client's is closed mid-body. Either way more than 64 KiB was taken from the client.
        var payload = Pattern(96 * 1024);
        await using var upstream = FailFirstBodyUpstream.Start(failAfter: downstream == "h1" ? payload.Length : ReplayLimit + 8 * 1024);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http1", routeExtra: Retries));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        var content = new PausedContent(payload, pieces: 12, TimeSpan.FromMilliseconds(20), withLength: false);
        using (var response = await client.SendAsync(Put(client, content)))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("upstream-reset", response.Headers.GetValues("x-proxy-error").Single());
        }

        Assert.Equal(1, upstream.Requests); // not sent again: more was taken from the client than the replay holds
        Assert.True((await upstream.FailedPrefix.Task.WaitAsync(TimeSpan.FromSeconds(15))).Length > ReplayLimit);

        // Streamed bodies and plain requests are served afterwards (the HTTP/1.1 client on a new connection).
        using var next = await client.SendAsync(Put(client, new PausedContent(Pattern(1000), 2, TimeSpan.FromMilliseconds(10), withLength: false)));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("ok 1000", await next.Content.ReadAsStringAsync());
        Assert.Equal("ok 0", await client.GetStringAsync("/after"));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"reset\"}"));
    }

    /// <summary>A PUT of <paramref name="content"/> in the client's own HTTP version (h2c for the HTTP/2 client).</summary>
    private static HttpRequestMessage Put(HttpClient client, HttpContent content) => new(HttpMethod.Put, "/upload")
    {
        Content = content,
        Version = client.DefaultRequestVersion,
        VersionPolicy = client.DefaultVersionPolicy,
    };

    /// <summary>
    /// A request body written in <c>pieces</c> writes with a pause between them: without a length (chunked over
    /// HTTP/1.1, DATA frames without content-length over HTTP/2), or with one.
    /// </summary>
    private sealed class PausedContent(byte[] data, int pieces, TimeSpan pause, bool withLength) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var size = (data.Length + pieces - 1) / pieces;
            for (var offset = 0; offset < data.Length; offset += size)
            {
                if (offset > 0)
                {
                    await Task.Delay(pause);
                }

                await stream.WriteAsync(data.AsMemory(offset, Math.Min(size, data.Length - offset)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return withLength;
        }
    }
}
