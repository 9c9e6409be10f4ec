namespace Proxy.Http.Http2;

/// <summary>
/// A protocol error found while reading a frame: its wire code, whether it ends the stream or the connection, and
/// a constant reason for logs and GOAWAY debug data.
/// </summary>
public readonly struct Http2FrameError
{
    public Http2FrameError(Http2ErrorCode code, bool isConnectionError, int streamId, string reason)
    {
        Code = code;
        IsConnectionError = isConnectionError;
        StreamId = streamId;
        Reason = reason;
    }

    /// <summary>The code to send in RST_STREAM or GOAWAY.</summary>
    public Http2ErrorCode Code { get; }

    /// <summary>True for a connection error (GOAWAY, RFC 9113 5.4.1), false for a stream error (RST_STREAM, 5.4.2).</summary>
    public bool IsConnectionError { get; }

    /// <summary>The stream of the offending frame.</summary>
    public int StreamId { get; }

    /// <summary>Why, as a constant string.</summary>
    public string Reason { get; }

    public override string ToString() =>
        $"{(IsConnectionError ? "connection" : "stream")} error {Code} on stream {StreamId}: {Reason}";
}
