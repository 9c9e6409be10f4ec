using System.Buffers;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http2;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// The matched route's rate limits, faults and mirror, decided as for HTTP/1.1 clients (<see cref="RouteAdmission"/>).
    /// True when the request goes on upstream; false when it was answered (429 <c>RL</c>, a fault's status with
    /// <c>FI</c>; a gRPC call gets its status, see <see cref="AnswerAsync"/>) or its client left during a fault's delay.
    /// A route with none of these completes synchronously, allocating nothing.
    /// </summary>
    /// <remarks>Runs on the downstream read loop (no await before it in <see cref="ServeStreamAsync"/>), so the stream's
    /// receive state read here is the one its HEADERS frame left.</remarks>
    private ValueTask<bool> AdmitAsync(Http2Stream stream, RouteRuntime action, RouteMetrics metrics, bool grpc, long started)
    {
        var view = new Http2RequestView(stream.ReceivedHeaders);
        Admission admission = RouteAdmission.Decide(_routing, action, ref view);

        // Bodiless as HTTP/1.1 judges it from the head: the HEADERS frame ended the stream.
        bool bodiless = stream.EndStreamReceived && stream.ReceivedBodyBytes == 0 && !stream.HasTrailers;
        if (!admission.IsForward)
        {
            return DelayOrAnswerAsync(stream, admission, action, bodiless, metrics, grpc, started);
        }

        MirrorIfSampled(stream, action, bodiless);
        return new ValueTask<bool>(true);
    }

    /// <summary>
    /// An injected fault: its delay is an awaited timer (the connection's other streams go on meanwhile; made only when
    /// a fault fires), then its abort is answered, or the request goes on as any other.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DelayOrAnswerAsync(Http2Stream stream, Admission admission, RouteRuntime action, bool bodiless, RouteMetrics metrics, bool grpc, long started)
    {
        if (admission.Delay > TimeSpan.Zero)
        {
            await Task.Delay(admission.Delay).ConfigureAwait(false);
            if (ClientGone(stream))
            {
                RecordDownstreamDisconnect(stream, metrics, grpc, started); // the client reset the stream meanwhile
                return false;
            }
        }

        if (admission.Status != 0)
        {
            await AnswerAsync(stream, metrics, admission.Status, admission.Flag, grpc, started).ConfigureAwait(false);
            return false;
        }

        MirrorIfSampled(stream, action, bodiless);
        return true;
    }

    /// <summary>
    /// Sends a copy of a bodiless request to the route's mirror cluster when it is sampled, fire-and-forget
    /// (<see cref="RequestMirror"/>): the HTTP/1.1 head an HTTP/1.1 upstream would get (with the same x-request-id and
    /// trace context), with <c>Connection: close</c>. One allocation per mirrored request, as for HTTP/1.1 clients.
    /// </summary>
    private void MirrorIfSampled(Http2Stream stream, RouteRuntime action, bool bodiless)
    {
        if (RouteAdmission.MirrorTarget(action, hasBody: !bodiless) is not { } cluster || cluster.Pick(PickContext.None) is not { } endpoint)
        {
            return;
        }

        Http2HeaderList request = stream.ReceivedHeaders;
        var head = new ArrayBufferWriter<byte>((int)Math.Min(request.Size, 64 * 1024) + 512);
        WriteHttp1RequestHead(head, request, Http2StreamExchange.Of(stream).Trace, hasBody: false, contentLength: 0, chunked: false, connection: "close"u8);
        RequestMirror.Send(endpoint, cluster, head.WrittenMemory);
    }
}
