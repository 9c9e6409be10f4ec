using System.Buffers;
using Proxy.Http.Http2;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// Writes the stream's request as a bodiless HTTP/1.1 head with <c>Connection: close</c>, as an HTTP/1.1 upstream
    /// would get it (same x-request-id and trace context): the copy a mirror sends (<see cref="Filters.MirrorFilter"/>).
    /// </summary>
    internal void WriteHttp1CopyHead(IBufferWriter<byte> output, Http2Stream stream, Http2StreamExchange exchange) =>
        WriteHttp1RequestHead(output, stream.ReceivedHeaders, exchange, hasBody: false, contentLength: 0, chunked: false, connection: "close"u8);

    /// <summary>The stream's request as the HTTP/2 fields of a bodiless copy (trace context and the filters' additions included).</summary>
    internal void WriteHttp2CopyHeaders(Http2HeaderList target, Http2Stream stream, Http2StreamExchange exchange, ReadOnlySpan<byte> scheme)
    {
        BuildUpstreamRequest(target, stream.ReceivedHeaders, scheme, exchange, endpoint: null);
        AddTraceFields(target, stream);
        exchange.RequestHeadersToAdd.AddTo(target);
    }
}
