namespace Proxy.Http.Http2;

public abstract partial class Http2Connection
{
    /// <summary>
    /// Sends an interim (1xx) response on <paramref name="stream"/>: HEADERS without END_STREAM, before the final
    /// response (RFC 9113 8.1). <paramref name="headers"/> is a validated response block (only :status and regular
    /// fields, no connection-specific ones), so it is encoded as it is, before this returns. Called from another
    /// connection's read loop, which must not wait, or from the stream's forwarder reading an HTTP/1.1 upstream: the
    /// flush is scheduled like every other frame's.
    /// </summary>
    internal void RelayInterimResponse(Http2Stream stream, Http2HeaderList headers)
    {
        lock (_sync)
        {
            if (_closed || !CanSendLocked(stream) || stream.EndStreamSent)
            {
                return;
            }

            WriteHeadersLocked(stream.Id, headers, endStream: false);
            ScheduleFlushLocked();
        }
    }
}
