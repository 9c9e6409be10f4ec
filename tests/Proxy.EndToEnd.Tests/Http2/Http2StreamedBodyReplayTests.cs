using System.Buffers.Binary;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// Streamed request bodies (no content-length, or larger than the 64 KiB buffered before a try) on HTTP/2 clusters:
/// the bytes already sent are kept until the response headers arrive, so a stream the upstream refused after
/// reading part of the body (RFC 9113 8.7) is sent again on a new stream, replayed and then streamed on.
/// </summary>
public class Http2StreamedBodyReplayTests
{
    private const int ReplayLimit = 64 * 1024;

    public static TheoryData<string, string> Cases => new()
    {
        { "h1", "refused-stream" },
        { "h2", "refused-stream" },
        { "h1", "goaway" },
        { "h2", "goaway" },
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

    /// <summary>
    /// An upstream that fails its first stream once <paramref name="failAfter"/> body bytes arrived: RST_STREAM
    /// REFUSED_STREAM, a GOAWAY below it, or RST_STREAM INTERNAL_ERROR (<paramref name="failure"/> "reset"). Later
    /// streams get 200 and the body's length once it ended. The bodies each stream received are collected.
    /// </summary>
    private static RawHttp2Upstream FailFirstAfter(int failAfter, string failure, List<byte[]> bodies, List<byte[]> failedPrefixes)
    {
        var seen = 0;
        return RawHttp2Upstream.Start(async exchange =>
        {
            if (Interlocked.Increment(ref seen) == 1)
            {
                await exchange.WaitForBodyAsync(failAfter);
                lock (failedPrefixes)
                {
                    failedPrefixes.Add(exchange.ReceivedSoFar());
                }

                await (failure switch
                {
                    "goaway" => exchange.Connection.GoAwayAsync(0, Http2ErrorCode.NoError),
                    "reset" => exchange.ResetAsync(Http2ErrorCode.InternalError),
                    _ => exchange.ResetAsync(Http2ErrorCode.RefusedStream),
                });
                return;
            }

            var body = await exchange.Body;
            lock (bodies)
            {
                bodies.Add(body);
            }

            await exchange.RespondAsync(200, $"ok {body.Length}");
        });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task StreamedBody_RefusedAfterSomeData_ReplayedOnNewStreamWhole(string downstream, string refusal)
    {
        var bodies = new List<byte[]>();
        var refused = new List<byte[]>();
        await using var upstream = FailFirstAfter(2048, refusal, bodies, refused);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        // 6 KiB in six writes 100 ms apart, without a length: chunked from the HTTP/1.1 client, DATA frames without
        // content-length from the HTTP/2 one. The refusal comes while the client is still sending.
        var payload = Pattern(6 * 1024);
        using var response = await client.PostAsync("/upload", new PausedContent(payload, pieces: 6, TimeSpan.FromMilliseconds(100)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"ok {payload.Length}", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Requests);
        var first = Assert.Single(refused);
        Assert.InRange(first.Length, 2048, payload.Length - 1);
        Assert.Equal(payload.AsSpan(0, first.Length).ToArray(), first);
        Assert.Equal(payload, Assert.Single(bodies));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_upstream_retries_total{cluster=\"backend\"}"));
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task StreamedBody_ResetBeforeHeaders_RetryPolicyReplays(string downstream)
    {
        var bodies = new List<byte[]>();
        var failed = new List<byte[]>();
        await using var upstream = FailFirstAfter(2048, "reset", bodies, failed);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2",
            routeExtra: "        retries: { attempts: 1, retry_on: [reset], backoff_base: 1ms }"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        // PUT is idempotent, so a reset (which may have reached the application) is retried under the policy.
        var payload = Pattern(5000);
        var request = new HttpRequestMessage(HttpMethod.Put, "/upload")
        {
            Content = new PausedContent(payload, pieces: 5, TimeSpan.FromMilliseconds(50)),
            Version = downstream == "h2" ? HttpVersion.Version20 : HttpVersion.Version11, // a message built here ignores the client's default version
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"ok {payload.Length}", await response.Content.ReadAsStringAsync());
        Assert.Equal(payload, Assert.Single(bodies));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_retries_total{cluster=\"backend\",reason=\"reset\"}"));
    }

    [Theory]
    [MemberData(nameof(Http2ProxyTests.Downstreams), MemberType = typeof(Http2ProxyTests))]
    public async Task StreamedBody_RefusedAfterReplayLimit_ErrorAsBeforeAndProxyKeepsServing(string downstream)
    {
        var bodies = new List<byte[]>();
        var refused = new List<byte[]>();

        // The HTTP/1.1 client is refused once its whole body is upstream: the proxy then has read all of it, so the
        // connection it closes after the error has nothing unread that would turn its FIN into a reset. The HTTP/2
        // client is refused mid-body.
        var payload = Pattern(96 * 1024);
        await using var upstream = FailFirstAfter(downstream == "h1" ? payload.Length : ReplayLimit + 8 * 1024, "refused-stream", bodies, refused);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var client = Http2ProxyTests.Client(proxy, downstream);

        using (var response = await client.PostAsync("/upload", new PausedContent(payload, pieces: 12, TimeSpan.FromMilliseconds(20))))
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("upstream-reset", response.Headers.GetValues("x-proxy-error").Single());
        }

        Assert.Equal(1, upstream.Requests); // not sent again: more was taken from the client than the replay holds
        Assert.True(Assert.Single(refused).Length > ReplayLimit);

        // Streamed bodies and plain requests are served afterwards (the HTTP/1.1 client on a new connection).
        using var next = await client.PostAsync("/upload", new PausedContent(Pattern(1000), pieces: 2, TimeSpan.FromMilliseconds(10)));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("ok 1000", await next.Content.ReadAsStringAsync());
        Assert.Equal("ok 0", await client.GetStringAsync("/after"));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(0, metrics.Value("proxy_upstream_retries_total{cluster=\"backend\"}"));
    }

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static b => b, static b => b);
    private static readonly Method<byte[], byte[]> ClientStream = new(MethodType.ClientStreaming, "test.Sum", "ClientStream", Bytes, Bytes);

    [Fact]
    public async Task GrpcClientStreaming_FirstStreamRefused_ReplayedAndAnswered()
    {
        // A gRPC upstream by hand: the first call is refused after its first three messages; the second one is
        // answered with the sum of the messages' first bytes and how many there were.
        var seen = 0;
        var bodies = new List<byte[]>();
        await using var upstream = RawHttp2Upstream.Start(async exchange =>
        {
            if (Interlocked.Increment(ref seen) == 1)
            {
                await exchange.WaitForBodyAsync(3 * (5 + 100));
                await exchange.ResetAsync(Http2ErrorCode.RefusedStream);
                return;
            }

            var body = await exchange.Body;
            lock (bodies)
            {
                bodies.Add(body);
            }

            int sum = 0, count = 0;
            for (var offset = 0; offset + 5 <= body.Length; offset += 5 + (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(offset + 1)))
            {
                sum += body[offset + 5];
                count++;
            }

            byte[] message = [(byte)sum, (byte)count];
            var frame = new byte[5 + message.Length];
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
            message.CopyTo(frame, 5);
            await exchange.HeadersAsync(200, endStream: false, ("content-type", "application/grpc"));
            await exchange.DataAsync(frame, endStream: false);
            await exchange.TrailersAsync(("grpc-status", "0"));
        });
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2"));
        using var channel = GrpcChannel.ForAddress($"http://{proxy.Listener("web")}");
        var invoker = channel.CreateCallInvoker();

        using var call = invoker.AsyncClientStreamingCall(ClientStream, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
        var sent = new List<byte>();
        for (byte i = 1; i <= 10; i++)
        {
            var message = new byte[100];
            message[0] = i;
            sent.AddRange([0, 0, 0, 0, 100, .. message]);
            await call.RequestStream.WriteAsync(message);
            await Task.Delay(30);
        }

        await call.RequestStream.CompleteAsync();
        Assert.Equal(new byte[] { 55, 10 }, await call.ResponseAsync);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(2, upstream.Requests);
        Assert.Equal(sent.ToArray(), Assert.Single(bodies));
    }

    /// <summary>
    /// A request body without a length (chunked over HTTP/1.1; DATA frames without content-length over HTTP/2),
    /// written in <c>pieces</c> writes with a pause between them.
    /// </summary>
    private sealed class PausedContent(byte[] data, int pieces, TimeSpan pause) : HttpContent
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
            length = 0;
            return false;
        }
    }
}
