using System.Buffers;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// Writes the current request as a bodiless HTTP/1.1 head with <c>Connection: close</c>, as an upstream would get
    /// it (the proxy's fields included): the copy a mirror sends (<see cref="Filters.MirrorFilter"/>).
    /// </summary>
    internal void WriteCopyHead(IBufferWriter<byte> output) => WriteRequestHead(output, hasBody: false, connection: "close"u8);

    /// <summary>The current request as the HTTP/2 fields of a bodiless copy, for a mirror cluster that speaks HTTP/2.</summary>
    internal void WriteHttp2CopyHeaders(Http.Http2.Http2HeaderList target, ReadOnlySpan<byte> scheme) => BuildHttp2Request(target, hasBody: false, scheme);
}
