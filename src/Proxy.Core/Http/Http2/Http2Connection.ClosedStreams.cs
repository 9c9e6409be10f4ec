namespace Proxy.Http.Http2;

/// <summary>Frames on streams that have left the table: RFC 9113 5.1 and 5.1.1 (see <see cref="Http2ClosedStreams"/>).</summary>
public abstract partial class Http2Connection
{
    /// <summary>What a frame on <paramref name="streamId"/>, used before and no longer in the table, finds (5.1).</summary>
    private Http2ClosedStreamKind ClassifyClosedLocked(int streamId)
    {
        // 6.8: streams the peer opened after our GOAWAY were never processed; their frames are discarded.
        if (_goAwaySent && IsPeerInitiated(streamId) && streamId > _goAwayLastStreamId)
        {
            return Http2ClosedStreamKind.Unknown;
        }

        return _closedStreams.Classify(streamId, Environment.TickCount64);
    }

    /// <summary>
    /// A whole field block (decoded, so HPACK stays in step) for a stream that has closed: RFC 9113 5.1 and 5.1.1 say
    /// what it means. False when it ends the connection.
    /// </summary>
    private bool LateHeaderBlock(int id, Http2ClosedStreamKind kind)
    {
        switch (kind)
        {
            case Http2ClosedStreamKind.NeverOpened:
                // 5.1.1: a new stream must have an identifier above every one the peer used.
                return Fail(Http2ErrorCode.ProtocolError, "HEADERS opening a stream below one already used");
            case Http2ClosedStreamKind.Closed:
                return Fail(Http2ErrorCode.StreamClosed, "HEADERS on a closed stream");
            case Http2ClosedStreamKind.ResetHere when _isServer && !_blockEndStream:
                // 8.1: a request's second HEADERS without END_STREAM is malformed whatever the stream's state (the
                // peer cannot have meant it as trailers). We reset the stream already, so answering with a stream
                // error changes nothing for the peer but the reason it reads. On the client side a HEADERS without
                // END_STREAM may be the final response after an interim one: ignored there.
                ResetStream(id, Http2ErrorCode.ProtocolError);
                return true;
            default:
                return true; // in flight when our RST_STREAM left, or cannot tell: ignored
        }
    }
}
