using System.Buffers;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http2;
using Proxy.Resilience;
using Proxy.Routing;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// Answers a stream with a route's redirect or direct response: HEADERS (:status, location, content-type,
    /// content-length but not for 204 and 304), then the body in DATA frames, which a HEAD request does not get (RFC 9110
    /// section 9.3.2); recorded with no flag. A gRPC call gets it as configured, not as a gRPC status.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    internal async ValueTask AnswerLocallyAsync(Http2Stream stream, Http2StreamExchange exchange, LocalResponse response)
    {
        Http2HeaderList fields = stream.Outgoing;
        fields.Reset();
        fields.AddStatus(response.Status);
        if (response.Redirect is { } redirect)
        {
            AddLocation(fields, redirect, exchange);
        }

        if (!response.ContentType.IsEmpty)
        {
            fields.Add("content-type"u8, response.ContentType.Span);
        }

        if (response.HasContentLength)
        {
            fields.Add("content-length"u8, response.ContentLength.Span);
        }

        ReadOnlyMemory<byte> body = exchange.Method.SequenceEqual("HEAD"u8) || !response.HasContentLength ? default : response.Body;
        Record(stream, exchange.Metrics, response.Status, ResponseFlag.None, exchange.IsGrpc, exchange.Started, stream.ReceivedHeaders.Size, fields.Size + body.Length, null,
            exchange.IsGrpc ? Http2Grpc.StatusOf(fields) : AttemptOutcome.NoGrpcStatus);
        if (await SendHeadersAsync(stream, fields, endStream: body.IsEmpty).ConfigureAwait(false) && !body.IsEmpty)
        {
            await SendDataAsync(stream, new ReadOnlySequence<byte>(body), endStream: true).ConfigureAwait(false);
        }
    }

    /// <summary>The Location, built from the request's :authority (or Host) and :path in a pooled buffer that the field list copies.</summary>
    private static void AddLocation(Http2HeaderList fields, RedirectAction redirect, Http2StreamExchange exchange)
    {
        ReadOnlySpan<byte> host = exchange.Host;
        ReadOnlySpan<byte> target = exchange.Target;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(redirect.MaxLocationLength(host.Length, target.Length));
        try
        {
            int length = redirect.WriteLocation(buffer, host, target, exchange.DownstreamTls);
            fields.Add("location"u8, buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
