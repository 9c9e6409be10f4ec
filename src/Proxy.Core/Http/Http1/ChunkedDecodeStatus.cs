namespace Proxy.Http.Http1;

/// <summary>What one <see cref="ChunkedDecoder.Decode"/> call produced.</summary>
public enum ChunkedDecodeStatus : byte
{
    /// <summary>A non-empty piece of chunk data was returned and consumed; call again.</summary>
    Data,
    /// <summary>All input was consumed (framing is kept in the decoder's state); supply more.</summary>
    NeedMoreData,
    /// <summary>The last-chunk and the trailer section were consumed: the body is complete.</summary>
    Completed,
    /// <summary>The body is malformed; see <see cref="ChunkedDecoder.Error"/>. The connection must close.</summary>
    Invalid,
}
