namespace Proxy.Http.Http2;

/// <summary>
/// Completes a stream's receive pipe when the stream ends abnormally (RST_STREAM either way, or the connection
/// closing), so a consumer blocked on the body learns why.
/// </summary>
public sealed class Http2StreamResetException : IOException
{
    /// <summary>Creates the exception for <paramref name="code"/>.</summary>
    public Http2StreamResetException(Http2ErrorCode code)
        : base("HTTP/2 stream reset: " + code.ToString())
    {
        Code = code;
    }

    /// <summary>The RST_STREAM or GOAWAY code.</summary>
    public Http2ErrorCode Code { get; }
}
