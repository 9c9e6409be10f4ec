using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>gRPC through the proxy (h2c both sides) with a hand-written byte[] service: every call shape, deadlines, a vanished upstream.</summary>
public class GrpcTests
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static b => b, static b => b);
    private static readonly Method<byte[], byte[]> Unary = new(MethodType.Unary, "test.Echo", "Unary", Bytes, Bytes);
    private static readonly Method<byte[], byte[]> ServerStream = new(MethodType.ServerStreaming, "test.Echo", "ServerStream", Bytes, Bytes);
    private static readonly Method<byte[], byte[]> ClientStream = new(MethodType.ClientStreaming, "test.Echo", "ClientStream", Bytes, Bytes);
    private static readonly Method<byte[], byte[]> Bidi = new(MethodType.DuplexStreaming, "test.Echo", "Bidi", Bytes, Bytes);

    /// <summary>What protoc would generate: the binder that lists the methods.</summary>
    public static class EchoBinder
    {
        public static void BindService(ServiceBinderBase binder, EchoBase service)
        {
            // ASP.NET Core calls this with a null service and finds the methods by name (as generated code allows).
            binder.AddMethod(GrpcTests.Unary, service is null ? null : service.Unary);
            binder.AddMethod(GrpcTests.ServerStream, service is null ? null : service.ServerStream);
            binder.AddMethod(GrpcTests.ClientStream, service is null ? null : service.ClientStream);
            binder.AddMethod(GrpcTests.Bidi, service is null ? null : service.Bidi);
        }
    }

    /// <summary>What protoc would generate: the service base the implementation overrides.</summary>
    [BindServiceMethod(typeof(EchoBinder), nameof(EchoBinder.BindService))]
    public abstract class EchoBase
    {
        public abstract Task<byte[]> Unary(byte[] request, ServerCallContext context);

        public abstract Task ServerStream(byte[] request, IServerStreamWriter<byte[]> responses, ServerCallContext context);

        public abstract Task<byte[]> ClientStream(IAsyncStreamReader<byte[]> requests, ServerCallContext context);

        public abstract Task Bidi(IAsyncStreamReader<byte[]> requests, IServerStreamWriter<byte[]> responses, ServerCallContext context);
    }

    public sealed class EchoService : EchoBase
    {

        public override async Task<byte[]> Unary(byte[] request, ServerCallContext context)
        {
            if (request.Length == 1 && request[0] == 0xFF)
            {
                await Task.Delay(3000, context.CancellationToken); // the deadline test
            }

            return [.. request, .. request];
        }

        public override async Task ServerStream(byte[] request, IServerStreamWriter<byte[]> responses, ServerCallContext context)
        {
            for (var i = 0; i < request[0]; i++)
            {
                await responses.WriteAsync([(byte)i]);
            }
        }

        public override async Task<byte[]> ClientStream(IAsyncStreamReader<byte[]> requests, ServerCallContext context)
        {
            var sum = 0;
            await foreach (var message in requests.ReadAllAsync())
            {
                sum += message[0];
            }

            return [(byte)sum];
        }

        public override async Task Bidi(IAsyncStreamReader<byte[]> requests, IServerStreamWriter<byte[]> responses, ServerCallContext context)
        {
            await foreach (var message in requests.ReadAllAsync())
            {
                await responses.WriteAsync([(byte)(message[0] + 1)]);
            }
        }
    }

    private static async Task<(WebApplication App, int Port)> StartGrpcUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<EchoService>();
        var app = builder.Build();
        app.MapGrpcService<EchoService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address).Port);
    }

    private static CallInvoker Invoker(RunningProxy proxy, out GrpcChannel channel)
    {
        channel = GrpcChannel.ForAddress($"http://{proxy.Listener("web")}");
        return channel.CreateCallInvoker();
    }

    [Fact]
    public async Task Grpc_AllCallShapes_ThroughProxy()
    {
        var (app, port) = await StartGrpcUpstreamAsync();
        await using var _ = app;
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{port}", "http2"));
        var invoker = Invoker(proxy, out var channel);
        using var __ = channel;

        Assert.Equal(new byte[] { 1, 2, 1, 2 }, await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), [1, 2]));

        using (var call = invoker.AsyncServerStreamingCall(ServerStream, null, new CallOptions(), [5]))
        {
            var received = new List<byte>();
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                received.Add(message[0]);
            }

            Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, received);
            Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        }

        using (var call = invoker.AsyncClientStreamingCall(ClientStream, null, new CallOptions()))
        {
            for (byte i = 1; i <= 10; i++)
            {
                await call.RequestStream.WriteAsync([i]);
            }

            await call.RequestStream.CompleteAsync();
            Assert.Equal(new byte[] { 55 }, await call.ResponseAsync);
        }

        using (var call = invoker.AsyncDuplexStreamingCall(Bidi, null, new CallOptions()))
        {
            for (byte i = 0; i < 5; i++)
            {
                await call.RequestStream.WriteAsync([i]);
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
                Assert.Equal(i + 1, call.ResponseStream.Current[0]);
            }

            await call.RequestStream.CompleteAsync();
            Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(4, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"grpc\",response_code=\"200\",response_flags=\"-\"}"));
    }

    [Fact]
    public async Task Grpc_DeadlineShorterThanUpstream_DeadlineExceededFromProxy()
    {
        var (app, port) = await StartGrpcUpstreamAsync();
        await using var _ = app;
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{port}", "http2"));
        var invoker = Invoker(proxy, out var channel);
        using var __ = channel;

        // A first call connects and runs the client's code for the first time: on a loaded machine that alone can
        // outlast the deadline below, and the client would give up before its request reached the proxy.
        Assert.Equal(new byte[] { 7, 7 }, await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), [7]));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Unary, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(500)), [0xFF]));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);

        // Which side ends this call first is a race: the client's own timer runs out at the deadline and resets the
        // stream (the proxy logs DC), while the proxy's timer starts when the request arrives with the remaining time
        // (it answers itself and logs UT). Either way the call ended within the deadline, not after the upstream's 3 s.
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            var metrics = await proxy.Admin.MetricsAsync();
            var byProxy = metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"grpc\",response_code=\"200\",response_flags=\"UT\"}");
            var byClient = metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"grpc\",response_code=\"0\",response_flags=\"DC\"}");
            return byProxy + byClient == 1;
        }));
    }

    /// <summary>
    /// grpc-timeout honoured by the proxy itself (gRPC over HTTP/2 protocol, "Timeout"): a client that sends the header
    /// but keeps no timer of its own gets the proxy's DEADLINE_EXCEEDED, as a gRPC error (HTTP 200, grpc-status 4).
    /// </summary>
    [Fact]
    public async Task Grpc_TimeoutHeader_ProxyAnswersDeadlineExceeded()
    {
        var (app, port) = await StartGrpcUpstreamAsync();
        await using var _ = app;
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{port}", "http2"));
        using var client = new HttpClient();

        // One length-prefixed message (compressed flag 0, length 1) asking the service to sleep 3 s.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{proxy.Listener("web")}/test.Echo/Unary")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact, // h2c with prior knowledge
            Content = new ByteArrayContent([0, 0, 0, 0, 1, 0xFF]),
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("grpc-timeout", "300m");

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = response.Headers.TryGetValues("grpc-status", out var inHeaders) ? inHeaders.Single()
            : response.TrailingHeaders.GetValues("grpc-status").Single();
        Assert.Equal("4", status);

        // Counted once the stream has ended on the proxy's side, which may be just after the client has read it.
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
            (await proxy.Admin.MetricsAsync()).Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"grpc\",response_code=\"200\",response_flags=\"UT\"}") == 1));
    }

    [Fact]
    public async Task Grpc_UpstreamGone_Unavailable()
    {
        var (app, port) = await StartGrpcUpstreamAsync();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{port}", "http2"));
        var invoker = Invoker(proxy, out var channel);
        using var __ = channel;
        Assert.Equal(new byte[] { 7, 7 }, await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), [7]));

        await app.StopAsync();
        await app.DisposeAsync();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), [7]));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    /// <summary>
    /// A route's rate limit answers a gRPC call as a gRPC error: HTTP 200, trailers-only, grpc-status 14 UNAVAILABLE
    /// (what Envoy's rate limit filters send by default), the flag as grpc-message.
    /// </summary>
    [Fact]
    public async Task Grpc_RouteRateLimited_UnavailableFromProxy()
    {
        var (app, port) = await StartGrpcUpstreamAsync();
        await using var _ = app;
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{port}", "http2",
            routeExtra: "        rate_limit: { requests_per_second: 1, burst: 1 }"));
        var invoker = Invoker(proxy, out var channel);
        using var __ = channel;

        var limited = 0;
        for (var i = 0; i < 5; i++)
        {
            try
            {
                Assert.Equal(new byte[] { 7, 7 }, await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), [7]));
            }
            catch (RpcException error)
            {
                Assert.Equal(StatusCode.Unavailable, error.StatusCode);
                Assert.Equal("rate-limited", error.Status.Detail);
                limited++;
            }
        }

        Assert.InRange(limited, 1, 4); // the first call takes the only token; a later one may find it refilled
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(limited, metrics.Value("proxy_rate_limited_total{listener=\"web\",route=\"route-0\"}"));
        Assert.Equal(limited, metrics.Value("istio_requests_total{reporter=\"source\",listener=\"web\",route=\"route-0\",destination_service=\"backend\",request_protocol=\"grpc\",response_code=\"200\",response_flags=\"RL\"}"));
    }

    /// <summary>An injected abort answers a gRPC call with the grpc-status its HTTP status maps to (403: PERMISSION_DENIED).</summary>
    [Fact]
    public async Task Grpc_FaultAbort_StatusMappedFromHttp()
    {
        var (app, port) = await StartGrpcUpstreamAsync();
        await using var _ = app;
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{port}", "http2",
            routeExtra: "        fault: { abort: { status: 503, percent: 0 }, header_control: true }"));
        var invoker = Invoker(proxy, out var channel);
        using var __ = channel;

        Assert.Equal(new byte[] { 7, 7 }, await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), [7]));
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await invoker.AsyncUnaryCall(Unary, null, new CallOptions(new Metadata { { "x-proxy-fault-abort", "403" } }), [7]));
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("fault-injected", error.Status.Detail);
    }
}
