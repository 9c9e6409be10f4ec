using System.Buffers;
using System.IO.Pipelines;
using Proxy.Async;
using Proxy.Http.Http2.HPack;

namespace Proxy.Http.Http2;

public abstract partial class Http2Connection
{
    // Field block being assembled (read loop only).
    private int _blockStreamId;
    private bool _blockEndStream;
    private int _blockFrames;
    private Http2ErrorCode _blockStreamError;

    private async Task ReadLoopAsync()
    {
        while (true)
        {
            ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            _readThreadId = Environment.CurrentManagedThreadId;

            // Consumers woken and flushes asked for by this batch run on this thread once it is processed.
            bool ok;
            bool batch = ReadBatch.Open();
            try
            {
                ok = ProcessFrames(buffer, out SequencePosition consumed);
                _input.AdvanceTo(consumed, buffer.End);
            }
            finally
            {
                if (batch)
                {
                    ReadBatch.Close();
                }
            }

            // Control frames written while processing (ACKs, WINDOW_UPDATE, RST_STREAM, GOAWAY) go out in one flush.
            if (!ok || IsClosed || result.IsCompleted || result.IsCanceled)
            {
                await FlushAsync().ConfigureAwait(false); // a GOAWAY leaves before the connection closes
                return;
            }

            FlushWithoutWaiting();
        }
    }

    private bool ProcessFrames(in ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        try
        {
            while (true)
            {
                Http2ReadStatus status = _frames.TryReadFrame(ref reader, out Http2Frame frame, out Http2FrameError error);
                switch (status)
                {
                    case Http2ReadStatus.NeedMoreData:
                        return true;
                    case Http2ReadStatus.ConnectionError:
                        return Fail(error.Code, error.Reason);
                    case Http2ReadStatus.StreamError when frame.Type != Http2FrameType.Headers:
                        ResetStream(error.StreamId, error.Code);
                        continue;
                }

                // RFC 9113 3.4: the peer's preface ends with its SETTINGS frame.
                if (!_peerSettingsReceived && frame.Type != Http2FrameType.Settings)
                {
                    return Fail(Http2ErrorCode.ProtocolError, "first frame is not SETTINGS");
                }

                bool ok = frame.Type switch
                {
                    Http2FrameType.Data => ProcessData(frame),
                    Http2FrameType.Headers => ProcessHeaders(frame, status == Http2ReadStatus.StreamError ? error.Code : Http2ErrorCode.NoError),
                    Http2FrameType.Continuation => ProcessContinuation(frame),
                    Http2FrameType.RstStream => ProcessRstStream(frame),
                    Http2FrameType.Settings => ProcessSettings(frame),
                    Http2FrameType.Ping => ProcessPing(frame),
                    Http2FrameType.GoAway => ProcessGoAway(frame),
                    Http2FrameType.WindowUpdate => ProcessWindowUpdate(frame),

                    // 8.4: push is disabled by our SETTINGS (client) and never allowed towards a server.
                    Http2FrameType.PushPromise => Fail(Http2ErrorCode.ProtocolError, "PUSH_PROMISE not allowed"),

                    // PRIORITY is deprecated (5.3.2) and unknown types are ignored (5.5).
                    _ => true,
                };

                if (!ok)
                {
                    return false;
                }
            }
        }
        finally
        {
            consumed = reader.Position;
        }
    }

    private bool Fail(Http2ErrorCode code, string reason)
    {
        lock (_sync)
        {
            FailLocked(code, reason);
        }

        return false;
    }

    private bool Trip()
    {
        OnDefenceTripped(_guard.Tripped);
        return Fail(_guard.Tripped.ErrorCode(), _guard.Tripped.Label());
    }

    // A stream id the peer has not used yet (RFC 9113 5.1.1): a frame other than HEADERS or PRIORITY on it is a
    // connection error.
    private bool IsIdleLocked(int streamId) => IsPeerInitiated(streamId) ? streamId > _lastPeerStreamId : streamId >= _nextStreamId;

    private bool IsPeerInitiated(int streamId) => _isServer ? (streamId & 1) == 1 : (streamId & 1) == 0;

    private bool ProcessData(in Http2Frame frame)
    {
        if (_guard.OnPayloadFrame(frame.Payload.Length == 0 && !frame.EndStream))
        {
            return Trip();
        }

        int flowLength = frame.FlowControlledLength;
        int padding = flowLength - (int)frame.Payload.Length;
        lock (_sync)
        {
            // 6.9.1: the connection window is charged for every DATA frame, whatever the stream's state.
            if (!_receiveWindow.TryConsume(flowLength))
            {
                return Fail(Http2ErrorCode.FlowControlError, "connection receive window exceeded");
            }

            if (!_streams.TryGetValue(frame.StreamId, out Http2Stream? stream))
            {
                if (IsIdleLocked(frame.StreamId))
                {
                    FailLocked(Http2ErrorCode.ProtocolError, "DATA on an idle stream");
                    return false;
                }

                // 5.1, 6.1: DATA on a closed stream. Frames the peer sent before our RST_STREAM reached it are ignored
                // (their bytes go back to the connection window); a stream both sides ended, or the peer reset, can
                // have none in flight: a connection error of type STREAM_CLOSED.
                if (ClassifyClosedLocked(frame.StreamId) is Http2ClosedStreamKind.Closed or Http2ClosedStreamKind.NeverOpened)
                {
                    FailLocked(Http2ErrorCode.StreamClosed, "DATA on a closed stream");
                    return false;
                }

                CreditConnectionLocked(flowLength);
                return true;
            }

            if (stream.EndStreamReceived)
            {
                CreditConnectionLocked(flowLength);
                ResetStreamLocked(stream, Http2ErrorCode.StreamClosed);
                return true;
            }

            if (!stream.ReceiveWindow.TryConsume(flowLength))
            {
                CreditConnectionLocked(flowLength);
                ResetStreamLocked(stream, Http2ErrorCode.FlowControlError);
                return true;
            }

            // Padding is flow controlled but never reaches the consumer: release it now.
            if (padding > 0)
            {
                CreditConnectionLocked(padding);
                CreditStreamLocked(stream, padding);
            }

            if (!ContentLengthAllows(stream, frame.Payload.Length, frame.EndStream))
            {
                // 8.1.1: more DATA than the content-length, or END_STREAM before all of it: malformed. The payload is
                // not delivered, so its bytes go back to the connection window.
                CreditConnectionLocked((int)frame.Payload.Length);
                ResetStreamLocked(stream, Http2ErrorCode.ProtocolError);
                return true;
            }

            if (!frame.Payload.IsEmpty)
            {
                stream.Body.Write(frame.Payload);
                stream.ReceivedBodyBytes += frame.Payload.Length;
                stream.PendingCredit += (int)frame.Payload.Length;
            }

            if (frame.EndStream)
            {
                EndStreamReceivedLocked(stream);
            }
        }

        return true;
    }

    /// <summary>
    /// RFC 9113 8.1.1: whether <paramref name="more"/> body bytes (ending the message when <paramref name="end"/>)
    /// keep the message within its declared content-length; checked as soon as DATA exceeds it and at END_STREAM.
    /// </summary>
    private static bool ContentLengthAllows(Http2Stream stream, long more, bool end)
    {
        long declared = stream.DeclaredContentLength;
        if (declared < 0)
        {
            return true;
        }

        long total = stream.ReceivedBodyBytes + more;
        return end ? total == declared : total <= declared;
    }

    private bool ProcessHeaders(in Http2Frame frame, Http2ErrorCode streamError)
    {
        if (_guard.OnPayloadFrame(frame.Payload.Length == 0 && !frame.EndStream))
        {
            return Trip();
        }

        _blockStreamId = frame.StreamId;
        _blockEndStream = frame.EndStream;
        _blockFrames = 1;
        _blockStreamError = streamError;
        _block.Reset();
        if (!_block.TryAppend(frame.Payload))
        {
            _guard.OnHeaderBlockTooLarge();
            return Trip();
        }

        return !frame.EndHeaders || EndHeaderBlock();
    }

    private bool ProcessContinuation(in Http2Frame frame)
    {
        if (_guard.OnPayloadFrame(frame.Payload.Length == 0 && !frame.EndHeaders) || _guard.OnContinuation(++_blockFrames))
        {
            return Trip();
        }

        if (!_block.TryAppend(frame.Payload))
        {
            _guard.OnHeaderBlockTooLarge();
            return Trip();
        }

        return !frame.EndHeaders || EndHeaderBlock();
    }

    /// <summary>A whole field block arrived: decode it (always, to keep HPACK in step) and apply it to its stream.</summary>
    private bool EndHeaderBlock()
    {
        int id = _blockStreamId;
        Http2Stream? stream;
        bool isNew = false;
        bool refused = false;
        Http2ClosedStreamKind? late = null; // set when the block is for a stream that has closed
        int generation;
        lock (_sync)
        {
            if (!_streams.TryGetValue(id, out stream))
            {
                if (!IsPeerInitiated(id) || !_isServer)
                {
                    // Client side: responses only come on our own streams, which are closed or idle here.
                    if (IsIdleLocked(id) || IsPeerInitiated(id))
                    {
                        FailLocked(Http2ErrorCode.ProtocolError, "HEADERS on an idle stream");
                        return false;
                    }

                    late = ClassifyClosedLocked(id);
                }
                else if (id <= _lastPeerStreamId)
                {
                    late = ClassifyClosedLocked(id);
                }
                else
                {
                    // 5.1.1: a new stream; its id must exceed every earlier one, which this check guarantees. The ids
                    // it skips are closed without ever opening: remembered, so HEADERS on one can be told apart.
                    if (id - _lastPeerStreamId > 2)
                    {
                        _closedStreams.OnGap(_lastPeerStreamId + 1, id - 1);
                    }

                    _lastPeerStreamId = id;
                    if (_goAwaySent)
                    {
                        // 6.8: streams after GOAWAY are ignored.
                    }
                    else if (_streams.Count >= Options.MaxConcurrentStreams)
                    {
                        refused = true; // 5.1.2: REFUSED_STREAM, the client may retry
                    }
                    else
                    {
                        stream = Http2StreamPool.Rent();
                        stream.Start(this, id, _peer.InitialWindowSize, Options.InitialStreamWindowSize);
                        _streams.Add(id, stream);
                        isNew = true;
                    }
                }
            }

            generation = stream?.Generation ?? 0;
        }

        // The block is decoded outside the lock into the connection's scratch list (the stream's consumer may
        // release the stream meanwhile); it is swapped into the stream under the lock below.
        Http2HeaderList target = _discard;
        Http2HeaderBlockKind kind = Http2HeaderBlockKind.Trailers;
        bool interimOrFinal = false;
        if (stream is not null && _blockStreamError == Http2ErrorCode.NoError)
        {
            target = _scratch;
            if (isNew)
            {
                kind = Http2HeaderBlockKind.Request;
            }
            else if (!_isServer && !stream.FinalHeadersReceived)
            {
                kind = Http2HeaderBlockKind.Response;
                interimOrFinal = true;
            }
        }

        target.Reset();
        var handler = new HeaderListHandler(target);
        HPackDecodeStatus decoded = _decoder.Decode(_block.Block, ref handler);
        _block.Reset();
        if (decoded == HPackDecodeStatus.CompressionError)
        {
            return Fail(Http2ErrorCode.CompressionError, _decoder.LastError ?? "HPACK decoding failed");
        }

        if (refused)
        {
            ResetStream(id, Http2ErrorCode.RefusedStream);
            return !_guard.OnStreamRefused() || Trip();
        }

        if (stream is null)
        {
            return late is not { } lateKind || LateHeaderBlock(id, lateKind); // null: a stream opened after our GOAWAY, dropped
        }

        if (_blockStreamError != Http2ErrorCode.NoError)
        {
            lock (_sync)
            {
                if (stream.Generation == generation)
                {
                    ResetStreamLocked(stream, _blockStreamError);
                }
            }

            return true;
        }

        if (decoded == HPackDecodeStatus.HeaderListTooLarge)
        {
            if (_guard.OnHeaderListTooLarge())
            {
                return Trip();
            }

            RefuseOversized(stream, generation);
            return true;
        }

        lock (_sync)
        {
            if (stream.Generation != generation || stream.State == Http2StreamState.Closed)
            {
                return true; // released (and perhaps reused) or closed while the block was decoded
            }

            if (!target.Validate(kind) || (kind == Http2HeaderBlockKind.Trailers && !_blockEndStream) || stream.EndStreamReceived)
            {
                // 8.1.1: a malformed message is a stream error of type PROTOCOL_ERROR; a second block without
                // END_STREAM is malformed too.
                ResetStreamLocked(stream, stream.EndStreamReceived ? Http2ErrorCode.StreamClosed : Http2ErrorCode.ProtocolError);
                return true;
            }

            if (interimOrFinal)
            {
                int status = target.Status;
                if (status < 200 && status != 101)
                {
                    // 8.1: an interim response (100, 103) never ends the stream; the final one follows. It is handed
                    // to the stream's sink under the lock, so a consumer that resets the stream first never sees one
                    // arrive afterwards (see IHttp2InterimResponseSink).
                    if (_blockEndStream)
                    {
                        ResetStreamLocked(stream, Http2ErrorCode.ProtocolError);
                    }
                    else
                    {
                        stream.InterimSink?.OnInterimResponse(stream, target);
                    }

                    return true;
                }

                stream.FinalHeadersReceived = true;
            }
            else if (kind == Http2HeaderBlockKind.Trailers)
            {
                stream.HasTrailers = true;
            }

            if (kind != Http2HeaderBlockKind.Trailers && !DeclareContentLength(stream, target, kind))
            {
                ResetStreamLocked(stream, Http2ErrorCode.ProtocolError);
                return true;
            }

            stream.SwapReceived(trailers: kind == Http2HeaderBlockKind.Trailers, ref _scratch);
            if (_blockEndStream)
            {
                if (!ContentLengthAllows(stream, 0, end: true))
                {
                    // 8.1.1: the message ended short of its content-length.
                    ResetStreamLocked(stream, Http2ErrorCode.ProtocolError);
                    return true;
                }

                EndStreamReceivedLocked(stream);
            }

            if (interimOrFinal)
            {
                stream.SignalHeaders(true);
            }
        }

        if (isNew)
        {
            OnStreamStarted(stream);
        }

        return true;
    }

    /// <summary>
    /// Records the content-length of a request or final response for the checks of 8.1.1; false when it is not a
    /// valid non-negative integer (malformed). HEAD responses, 204 and 304 declare a length but carry no content.
    /// </summary>
    private static bool DeclareContentLength(Http2Stream stream, Http2HeaderList headers, Http2HeaderBlockKind kind)
    {
        long declared = Http2ContentLength.Parse(headers);
        if (declared == Http2ContentLength.Invalid)
        {
            return false;
        }

        bool noContent = kind == Http2HeaderBlockKind.Response && (stream.RequestIsHead || headers.Status is 204 or 304);
        stream.DeclaredContentLength = noContent ? Http2ContentLength.Absent : declared;
        return true;
    }

    private void RefuseOversized(Http2Stream stream, int generation)
    {
        lock (_sync)
        {
            if (stream.Generation != generation)
            {
                return;
            }

            if (_isServer && stream.State != Http2StreamState.Closed)
            {
                // RFC 9113 8.2.2 / RFC 6585: 431 Request Header Fields Too Large, then the stream ends.
                Http2HeaderList response = stream.Outgoing;
                response.Reset();
                response.Add(":status"u8, "431"u8);
                WriteHeadersLocked(stream.Id, response, endStream: true);
                stream.EndStreamSent = true;
            }

            ResetStreamLocked(stream, _isServer ? Http2ErrorCode.NoError : Http2ErrorCode.ProtocolError);
        }
    }

    /// <summary>Feeds decoded fields into a header list.</summary>
    private readonly struct HeaderListHandler(Http2HeaderList list) : IHPackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) => list.Add(name, value, neverIndexed);
    }
}
