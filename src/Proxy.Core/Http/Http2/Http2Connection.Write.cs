using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http2.HPack;

namespace Proxy.Http.Http2;

public abstract partial class Http2Connection
{
    /// <summary>
    /// Sends <paramref name="headers"/> (pseudo-headers first, then the regular fields in order) as HEADERS plus
    /// CONTINUATIONs; with <paramref name="endStream"/> it is the last frame of this side (trailers, or a bodiless
    /// message). Returns false when the stream or connection can no longer send.
    /// </summary>
    public ValueTask<bool> SendHeadersAsync(Http2Stream stream, Http2HeaderList headers, bool endStream)
    {
        lock (_sync)
        {
            if (_closed || !CanSendLocked(stream))
            {
                return new ValueTask<bool>(false);
            }

            WriteHeadersLocked(stream.Id, headers, endStream);
            if (endStream)
            {
                EndStreamSentLocked(stream);
            }

            ScheduleFlushLocked();
        }

        return new ValueTask<bool>(true);
    }

    /// <summary>
    /// Sends <paramref name="data"/> as DATA frames, waiting for stream and connection flow-control credit (6.9) as
    /// needed; END_STREAM goes on the last frame. Returns false when the stream was reset or the connection ended.
    /// The bytes are copied before this returns, so the caller may release its buffer afterwards.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<bool> SendDataAsync(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream)
    {
        while (true)
        {
            Task<bool>? wait = null;
            lock (_sync)
            {
                if (_closed || !CanSendLocked(stream))
                {
                    return false;
                }

                if (data.IsEmpty)
                {
                    if (endStream)
                    {
                        Http2FrameWriter.WriteData(_output, stream.Id, ReadOnlySpan<byte>.Empty, endStream: true, _peer.MaxFrameSize);
                        EndStreamSentLocked(stream);
                    }

                    break;
                }

                long allowed = Math.Min(data.Length, Math.Min(stream.SendWindow.Available, _sendWindow.Available));
                if (allowed <= 0)
                {
                    ScheduleFlushLocked();
                    wait = stream.PrepareWindowWait();
                    if (_sendWindow.Available <= 0 && !_blocked.Contains(stream))
                    {
                        _blocked.Add(stream);
                    }
                }
                else
                {
                    int length = (int)allowed;
                    stream.SendWindow.TryConsume(length);
                    _sendWindow.TryConsume(length);
                    bool last = length == data.Length;
                    Http2FrameWriter.WriteData(_output, stream.Id, data.Slice(0, length), endStream && last, _peer.MaxFrameSize);
                    for (int frames = (length + _peer.MaxFrameSize - 1) / _peer.MaxFrameSize; frames > 0; frames--)
                    {
                        _guard.OnDataFrameSent();
                    }

                    stream.SentBodyBytes += length;
                    data = data.Slice(length);
                    if (last && endStream)
                    {
                        EndStreamSentLocked(stream);
                    }
                }
            }

            if (wait is not null)
            {
                // The peer sees what was sent so far (the flush was scheduled); its WINDOW_UPDATE wakes us.
                if (!await wait.ConfigureAwait(false))
                {
                    return false;
                }

                continue;
            }

            if (data.IsEmpty)
            {
                break;
            }
        }

        ValueTask<bool> flushed;
        lock (_sync)
        {
            flushed = ScheduleFlushWithBackpressureLocked();
        }

        return await flushed.ConfigureAwait(false);
    }

    /// <summary>
    /// The consumer handed on <paramref name="bytes"/> of the stream's body: credit both receive windows and send
    /// WINDOW_UPDATEs once half a window is due (batched, 6.9).
    /// </summary>
    public ValueTask<bool> OnDataConsumed(Http2Stream stream, int bytes)
    {
        if (bytes <= 0)
        {
            return new ValueTask<bool>(true);
        }

        lock (_sync)
        {
            if (_closed)
            {
                return new ValueTask<bool>(false);
            }

            bytes = Math.Min(bytes, stream.PendingCredit);
            stream.PendingCredit -= bytes;
            CreditConnectionLocked(bytes);
            if (stream.State != Http2StreamState.Closed && !stream.EndStreamReceived)
            {
                CreditStreamLocked(stream, bytes);
            }

            ScheduleFlushLocked();
        }

        return new ValueTask<bool>(true);
    }

    /// <summary>Resets <paramref name="stream"/> with RST_STREAM <paramref name="code"/> unless it is already closed.</summary>
    public ValueTask<bool> ResetAsync(Http2Stream stream, Http2ErrorCode code)
    {
        lock (_sync)
        {
            if (stream.State == Http2StreamState.Closed)
            {
                return new ValueTask<bool>(true);
            }

            ResetStreamLocked(stream, code);
            ScheduleFlushLocked();
        }

        return new ValueTask<bool>(true);
    }

    /// <summary>
    /// Client side, when the wait for a response times out: resets <paramref name="stream"/> with CANCEL unless its
    /// final response headers arrived first, it is closed already, or the pooled object serves another stream now
    /// (its <see cref="Http2Stream.Generation"/> is no longer <paramref name="generation"/>); true when it reset it.
    /// Decided under the lock the read loop installs response headers under, so exactly one of the two happens:
    /// the headers complete <see cref="Http2Stream.HeadersReceived"/> with true, or this reset completes it with
    /// false and no later header block of the stream (an interim response included) is delivered.
    /// </summary>
    internal bool TryCancelBeforeResponse(Http2Stream stream, int generation)
    {
        lock (_sync)
        {
            if (stream.Generation != generation || stream.State == Http2StreamState.Closed || stream.FinalHeadersReceived)
            {
                return false;
            }

            ResetStreamLocked(stream, Http2ErrorCode.Cancel);
            ScheduleFlushLocked();
        }

        return true;
    }

    /// <summary>
    /// The consumer is done with <paramref name="stream"/>: unread body bytes go back to the connection window, and a
    /// stream still open is reset (NO_ERROR when this side finished its message, as 8.1 allows a server whose
    /// response is complete; CANCEL otherwise). The stream object then returns to the pool: the caller must not use
    /// it again, and nothing else it started (an upload task, say) may still be using it.
    /// </summary>
    public ValueTask<bool> ReleaseStreamAsync(Http2Stream stream)
    {
        lock (_sync)
        {
            if (stream.Released)
            {
                return new ValueTask<bool>(true);
            }

            stream.Released = true;
            if (stream.PendingCredit > 0)
            {
                if (!_closed)
                {
                    CreditConnectionLocked(stream.PendingCredit);
                }

                stream.PendingCredit = 0;
            }

            if (stream.State != Http2StreamState.Closed)
            {
                ResetStreamLocked(stream, stream.EndStreamSent ? Http2ErrorCode.NoError : Http2ErrorCode.Cancel);
            }

            ScheduleFlushLocked();
        }

        // Closed above and out of the table: nothing on the connection refers to it any more.
        stream.Input.Complete();
        Http2StreamPool.Return(stream);
        return new ValueTask<bool>(true);
    }

    /// <summary>
    /// Pushes buffered frames to the transport now. One flusher at a time: a caller arriving while another flush is
    /// in progress marks the output dirty and waits until that flusher has pushed it (so a caller that awaits this
    /// is held back while the transport is backed up). Returns false once the connection is closed.
    /// </summary>
    public ValueTask<bool> FlushAsync()
    {
        lock (_sync)
        {
            if (_closed)
            {
                return new ValueTask<bool>(false);
            }

            if (_flushing)
            {
                _dirty = true;
                return WaitForDrainLocked();
            }

            return StartFlushLocked();
        }
    }

    /// <summary>
    /// Asks for the buffered frames to be flushed soon, without waiting. Frames written by many streams until the
    /// flush runs leave in one transport write (one send system call instead of one per frame group): the flush
    /// runs as a thread pool work item queued behind the work that is writing the frames.
    /// </summary>
    public void ScheduleFlush()
    {
        lock (_sync)
        {
            ScheduleFlushLocked();
        }
    }

    private void ScheduleFlushLocked()
    {
        if (_closed)
        {
            return;
        }

        if (_flushing)
        {
            _dirty = true; // the flusher in progress goes round again
        }
        else if (!_flushScheduled)
        {
            _flushScheduled = true;
            if (ReadBatch.ManyEvents || _streams.Count <= InlineFlushStreamLimit)
            {
                ReadBatch.Schedule(this);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }
    }

    /// <summary>
    /// Up to this many open streams, a flush asked for by the one continuation a socket read resumed (an HTTP/1.1
    /// request forwarded as a stream, an HTTP/1.1 upstream's response relayed on one) runs on that thread as soon as
    /// the continuation returns. With more, it is queued to the thread pool, where the frames other streams write
    /// meanwhile join the same send: under load one send carries many responses (measured: flushing each response
    /// alone raised CPU per request by about half for h2load's 1,600 streams behind HTTP/1.1 upstreams), while at
    /// low load the hop to a sleeping worker only added its wake-up to every request.
    /// </summary>
    private const int InlineFlushStreamLimit = 4;

    /// <summary>
    /// Schedules a flush and returns a completed task, or, while the transport is backed up (a flush has not
    /// completed), a task that completes when it has: how a body sender feels TCP backpressure.
    /// </summary>
    private ValueTask<bool> ScheduleFlushWithBackpressureLocked()
    {
        if (_closed)
        {
            return new ValueTask<bool>(false);
        }

        if (_flushing)
        {
            _dirty = true;
            return WaitForDrainLocked();
        }

        ScheduleFlushLocked();
        return new ValueTask<bool>(true);
    }

    private ValueTask<bool> WaitForDrainLocked()
    {
        // Only while the transport is backed up: allocation is acceptable on this path.
        _drained ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        return new ValueTask<bool>(_drained.Task);
    }

    /// <summary>The scheduled flush (see <see cref="ScheduleFlush"/>).</summary>
    void IThreadPoolWorkItem.Execute()
    {
        lock (_sync)
        {
            _flushScheduled = false;
        }

        FlushWithoutWaiting();
    }

    /// <summary>
    /// Starts a flush (or marks the one in progress dirty) and returns at once. The read loop flushes this way: if
    /// it waited for the transport to drain, it would stop reading the peer while the peer, blocked writing to us,
    /// stops reading what we send: a deadlock. What it writes (ACKs, WINDOW_UPDATE, RST_STREAM) is small and
    /// bounded by the flood guards; body senders wait for the drain instead.
    /// </summary>
    private void FlushWithoutWaiting()
    {
        ValueTask<bool> flushed;
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            if (_flushing)
            {
                _dirty = true;
                return;
            }

            flushed = StartFlushLocked();
        }

        if (!flushed.IsCompleted)
        {
            flushed.AsTask().ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
        }
    }

    /// <summary>Starts a transport flush; under the lock because writers add frames to the same pipe under it.</summary>
    private ValueTask<bool> StartFlushLocked()
    {
        _flushing = true;
        _dirty = false;
        ValueTask<FlushResult> pending = FlushTransportLocked();
        if (pending.IsCompletedSuccessfully)
        {
            FlushResult result = pending.Result;
            _flushing = false;
            if (result.IsCompleted)
            {
                _input.CancelPendingRead(); // nothing can be sent any more: the read loop ends the connection
            }

            return new ValueTask<bool>(!result.IsCompleted);
        }

        return FlushLoopAsync(pending);
    }

    /// <summary>
    /// Flushes the transport's pipe. With inline schedulers the socket send runs inside this call, so a peer that
    /// went away surfaces here as a thrown exception: reported as a completed flush (the connection is over), never
    /// thrown into a thread pool work item or a caller that only wanted frames sent.
    /// </summary>
    private ValueTask<FlushResult> FlushTransportLocked()
    {
        try
        {
            return _output.FlushAsync();
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
        }
    }

    private async ValueTask<bool> FlushLoopAsync(ValueTask<FlushResult> pending)
    {
        while (true)
        {
            FlushResult result;
            try
            {
                result = await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (IsConnectionLoss(ex))
            {
                result = new FlushResult(isCanceled: false, isCompleted: true);
            }

            TaskCompletionSource<bool>? drained;
            bool open;
            bool again;
            lock (_sync)
            {
                drained = _drained;
                _drained = null;
                open = !result.IsCompleted && !_closed;
                again = open && _dirty;
                if (again)
                {
                    _dirty = false;
                    pending = FlushTransportLocked();
                }
                else
                {
                    _flushing = false;
                }
            }

            // Writers that waited for the backlog may write again (each completed flush releases them).
            drained?.TrySetResult(open);
            if (result.IsCompleted)
            {
                _input.CancelPendingRead(); // nothing can be sent any more: the read loop ends the connection
            }

            if (!again)
            {
                return open;
            }
        }
    }

    private static bool CanSendLocked(Http2Stream stream) =>
        stream.State is Http2StreamState.Open or Http2StreamState.HalfClosedRemote;

    /// <summary>HPACK-encodes a list and writes it as HEADERS (+ CONTINUATION); under the lock so HPACK state follows wire order.</summary>
    private protected void WriteHeadersLocked(int streamId, Http2HeaderList headers, bool endStream)
    {
        ArrayBufferWriter<byte> block = _encoded;
        block.ResetWrittenCount();
        EncodePseudo(block, ":status"u8, headers.StatusBytes);
        EncodePseudo(block, ":method"u8, headers.Method);
        EncodePseudo(block, ":scheme"u8, headers.Scheme);
        EncodePseudo(block, ":authority"u8, headers.Authority);
        EncodePseudo(block, ":path"u8, headers.Path);
        for (int i = 0; i < headers.Count; i++)
        {
            ReadOnlySpan<byte> name = headers.GetName(i);
            _encoder.Encode(block, name, headers.GetValue(i),
                headers.IsNeverIndexed(i) ? HPackIndexing.NeverIndexed : IndexingFor(name));
        }

        Http2FrameWriter.WriteHeaders(_output, streamId, block.WrittenSpan, endStream, _peer.MaxFrameSize);
    }

    /// <summary>
    /// Fields whose value is new on nearly every message are sent without indexing (RFC 7541 6.2.2): added to the
    /// dynamic table, a request id or a content length would evict the fields that do repeat (user-agent,
    /// content-type, server), which then have to be sent as literals, Huffman-coded and inserted again. The list
    /// follows nghttp2's deflater, plus the proxy's own per-request fields (request id, trace context).
    /// </summary>
    private static HPackIndexing IndexingFor(ReadOnlySpan<byte> name)
    {
        bool changing = name.Length switch
        {
            3 => name.SequenceEqual("age"u8),
            4 => name.SequenceEqual("etag"u8),
            8 => name.SequenceEqual("location"u8),
            10 => name.SequenceEqual("set-cookie"u8),
            11 => name.SequenceEqual("traceparent"u8) || name.SequenceEqual("x-b3-spanid"u8),
            12 => name.SequenceEqual("x-request-id"u8) || name.SequenceEqual("x-b3-traceid"u8),
            13 => name.SequenceEqual("if-none-match"u8),
            14 => name.SequenceEqual("content-length"u8),
            17 => name.SequenceEqual("if-modified-since"u8) || name.SequenceEqual("x-b3-parentspanid"u8),
            _ => false,
        };

        return changing ? HPackIndexing.WithoutIndexing : HPackIndexing.Incremental;
    }

    private void EncodePseudo(ArrayBufferWriter<byte> block, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (!value.IsEmpty)
        {
            // :path values change per request: keep them out of the dynamic table.
            _encoder.Encode(block, name, value, name[1] == (byte)'p' ? HPackIndexing.WithoutIndexing : HPackIndexing.Incremental);
        }
    }

    private void ResetStream(int streamId, Http2ErrorCode code)
    {
        lock (_sync)
        {
            if (_streams.TryGetValue(streamId, out Http2Stream? stream))
            {
                ResetStreamLocked(stream, code);
            }
            else if (!_closed)
            {
                Http2FrameWriter.WriteRstStream(_output, streamId, code);
                _closedStreams.OnReset(streamId, Environment.TickCount64);
            }
        }
    }

    private void ResetStreamLocked(Http2Stream stream, Http2ErrorCode code)
    {
        if (stream.State == Http2StreamState.Closed)
        {
            return;
        }

        if (!_closed)
        {
            Http2FrameWriter.WriteRstStream(_output, stream.Id, code);
            _closedStreams.OnReset(stream.Id, Environment.TickCount64); // the peer's frames in flight are ignored (5.1)
        }

        stream.ResetCode ??= code;
        CloseStreamLocked(stream, code);
    }

    /// <summary>Removes a stream from the table; <paramref name="abortCode"/> non-null when it did not end normally.</summary>
    private void CloseStreamLocked(Http2Stream stream, Http2ErrorCode? abortCode)
    {
        if (stream.State == Http2StreamState.Closed)
        {
            return;
        }

        stream.State = Http2StreamState.Closed;
        _streams.Remove(stream.Id);
        _blocked.Remove(stream);
        if (abortCode is { } code)
        {
            // Bytes buffered for a consumer that will not read them go back to the connection window.
            if (stream.PendingCredit > 0 && !_closed)
            {
                CreditConnectionLocked(stream.PendingCredit);
                stream.PendingCredit = 0;
            }

            stream.Abort(code);
        }
        else
        {
            _guard.OnStreamCompleted();
            stream.WakeWindowWaiter();
        }

        OnStreamClosedLocked(stream);
        StopReadingIfIdleLocked();
    }

    private void EndStreamReceivedLocked(Http2Stream stream)
    {
        stream.EndStreamReceived = true;
        stream.Body.CompleteWriter();
        if (stream.State == Http2StreamState.HalfClosedLocal)
        {
            CloseStreamLocked(stream, null);
        }
        else if (stream.State == Http2StreamState.Open)
        {
            stream.State = Http2StreamState.HalfClosedRemote;
        }
    }

    private void EndStreamSentLocked(Http2Stream stream)
    {
        stream.EndStreamSent = true;
        if (stream.State == Http2StreamState.HalfClosedRemote)
        {
            CloseStreamLocked(stream, null);
        }
        else if (stream.State == Http2StreamState.Open)
        {
            stream.State = Http2StreamState.HalfClosedLocal;
        }
    }

    private void CreditConnectionLocked(int bytes)
    {
        if (_receiveWindow.Release(bytes, out int increment) && !_closed)
        {
            Http2FrameWriter.WriteWindowUpdate(_output, 0, increment);
        }
    }

    private void CreditStreamLocked(Http2Stream stream, int bytes)
    {
        if (stream.ReceiveWindow.Release(bytes, out int increment) && !_closed)
        {
            Http2FrameWriter.WriteWindowUpdate(_output, stream.Id, increment);
        }
    }
}
