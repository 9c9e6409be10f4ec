using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Transport;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    private long _uploadedBytes; // body bytes taken from the client so far: where a retry's upload goes on from
    private Http1ParseError _uploadError;
    private bool _uploadTooLarge;

    /// <summary>
    /// Set by an upload that found the client gone mid-body (its connection closed or reset), before the wait for the
    /// response head is ended (<see cref="OnClientLeftMidBody"/>), so the waiter sees it when it wakes.
    /// </summary>
    private volatile bool _clientLeftMidBody;

    /// <summary>
    /// Streams the request body to the upstream with backpressure: Content-Length bodies are copied as they are,
    /// chunked bodies are validated chunk by chunk and re-encoded. Runs beside the response read. Every byte taken from
    /// the client is recorded in <paramref name="replay"/> (when the route retries); on a retry the bytes earlier tries
    /// took go first (<see cref="StreamedBodyReplay.WriteHeld"/>) and the body goes on where they ended (the
    /// content-length left, the chunked decoder's state). A cancelled read (the forwarder ending the upload,
    /// <see cref="EndUploadAsync"/>) takes nothing, so those bytes are still there for a retry. Returns true when the
    /// whole body was sent.
    /// </summary>
    private async Task<bool> UploadBodyAsync(Upstream.UpstreamConnection connection, StreamedBodyReplay? replay)
    {
        var upstream = connection.Output;
        var chunked = _request.IsChunked;
        BeginUploadWatch();
        try
        {
            replay?.WriteHeld(upstream, chunked);
            if (chunked && RequestChunks.IsCompleted)
            {
                // An earlier try took the whole body: the held bytes were all of it.
                ChunkedEncoder.WriteLastChunk(upstream, RequestChunks.TrailerBytes);
                await upstream.FlushAsync().ConfigureAwait(false);
                await WatchAfterUploadAsync().ConfigureAwait(false);
                return true;
            }

            var first = true; // the first read may find bytes an earlier try examined and left (see ReadClientAsync)
            while (true)
            {
                if (!chunked && _uploadedBytes == _request.ContentLength)
                {
                    // An earlier try took the whole body: the held bytes were all of it.
                    await upstream.FlushAsync().ConfigureAwait(false);
                    await WatchAfterUploadAsync().ConfigureAwait(false);
                    return true;
                }

                ReadResult result;
                try
                {
                    result = await ReadClientAsync(first).ConfigureAwait(false);
                }
                catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
                {
                    OnClientLeftMidBody(replay); // the client reset its connection
                    return false;
                }

                first = false;
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    _input.AdvanceTo(buffer.Start);
                    return false;
                }

                var ended = chunked ? DecodeAndSend(buffer, result.IsCompleted, upstream, replay) : CopyAndSend(buffer, upstream, replay);
                _activity.Value = Environment.TickCount64;
                if (ended == BodyStep.Completed)
                {
                    await upstream.FlushAsync().ConfigureAwait(false); // written whole: an upstream that closed now answered already
                    await WatchAfterUploadAsync().ConfigureAwait(false);
                    return true;
                }

                if (ended == BodyStep.Failed)
                {
                    connection.Dispose(); // cut the upstream off so the response wait ends; the client gets 413 or 400
                    return false;
                }

                if (ended == BodyStep.ClientLeft || (result.IsCompleted && (chunked || _uploadedBytes < _request.ContentLength)))
                {
                    OnClientLeftMidBody(replay); // the client closed its connection before its body ended
                    return false;
                }

                var flush = await upstream.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    return false; // the upstream closed, or the forwarder ended the upload
                }
            }
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            return false; // the upstream's side failed: the try's outcome says what follows
        }
    }

    /// <summary>
    /// Ends a try's upload that still runs, before a retry takes the client's body on: the cancelled flush wakes one
    /// waiting for the upstream, the cancelled read one waiting for the client (which then takes nothing, so those
    /// bytes stay for the retry). A cancellation the upload never saw is taken off the client's input, where it would
    /// end the retry's first read.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask EndUploadAsync(Attempt attempt)
    {
        if (attempt.Upload is not { } upload)
        {
            return;
        }

        if (!upload.IsCompleted)
        {
            attempt.Upstream?.Output.CancelPendingFlush();
            _input.CancelPendingRead();
            await upload.ConfigureAwait(false);
            StreamedBodyReplay.ClearPendingCancel(_input);
        }
    }

    /// <summary>How one read of the client's body went (<see cref="UploadBodyAsync"/>).</summary>
    private enum BodyStep : byte
    {
        /// <summary>The bytes were sent on; more are to come.</summary>
        More,

        /// <summary>The body ended: its last bytes (and the last chunk) are written.</summary>
        Completed,

        /// <summary>The body broke the rules (too large, malformed chunk framing): the client's answer, never a retry.</summary>
        Failed,

        /// <summary>The client's input ended before the body did.</summary>
        ClientLeft,
    }

    /// <summary>Content-Length: sends what the body still lacks of <paramref name="buffer"/>; the rest is the next request.</summary>
    private BodyStep CopyAndSend(in ReadOnlySequence<byte> buffer, PipeWriter upstream, StreamedBodyReplay? replay)
    {
        var remaining = _request.ContentLength - _uploadedBytes;
        var take = buffer.Length > remaining ? buffer.Slice(0, remaining) : buffer;
        foreach (var segment in take)
        {
            upstream.Write(segment.Span);
        }

        replay?.Record(take); // taken from the client whether or not the send gets through: a retry sends it
        _uploadedBytes += take.Length;
        _input.AdvanceTo(take.End);
        return _uploadedBytes == _request.ContentLength ? BodyStep.Completed : BodyStep.More;
    }

    /// <summary>Chunked: decodes the chunks in <paramref name="buffer"/> and sends each one re-encoded (RFC 9112 7.1).</summary>
    private BodyStep DecodeAndSend(in ReadOnlySequence<byte> buffer, bool inputEnded, PipeWriter upstream, StreamedBodyReplay? replay)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkedDecodeStatus status;
        while ((status = RequestChunks.Decode(ref reader, out var data)) == ChunkedDecodeStatus.Data)
        {
            _uploadedBytes += data.Length;
            if (_maxBodyBytes > 0 && _uploadedBytes > _maxBodyBytes)
            {
                // Over the limit mid-stream: the upstream is cut off; the client gets 413.
                _input.AdvanceTo(reader.Position);
                _uploadTooLarge = true;
                replay?.Discard();
                return BodyStep.Failed;
            }

            ChunkedEncoder.WriteChunk(upstream, data);
            replay?.Record(data); // the decoder has taken the chunk: a retry sends it
        }

        _input.AdvanceTo(reader.Position, buffer.End);
        switch (status)
        {
            case ChunkedDecodeStatus.Completed:
                ChunkedEncoder.WriteLastChunk(upstream, RequestChunks.TrailerBytes);
                return BodyStep.Completed;
            case ChunkedDecodeStatus.Invalid:
                _uploadError = RequestChunks.Error; // the client gets a 400
                replay?.Discard();
                return BodyStep.Failed;
            default:
                return inputEnded ? BodyStep.ClientLeft : BodyStep.More;
        }
    }

    /// <summary>
    /// Reads the client's input. A <paramref name="first"/> read tries what is already there first: bytes a read before
    /// examined and left unconsumed (an earlier try's partial chunk line, a watch that looked at pipelined bytes) would
    /// not wake <see cref="PipeReader.ReadAsync"/> again until more arrive, which may never happen.
    /// </summary>
    private ValueTask<ReadResult> ReadClientAsync(bool first) =>
        first && _input.TryRead(out var ready) ? new ValueTask<ReadResult>(ready) : _input.ReadAsync();

    /// <summary>
    /// The client left mid-body (FIN or RST before its body ended): nothing a retry could complete, and the upstream
    /// would wait for the rest. The wait for the response head is ended at once, as when the client leaves while it is
    /// awaited (<see cref="ResponseHeadTimeout.OnDownstreamGone"/>): the upstream connection is closed, or its stream
    /// reset, and the request recorded with status 0 and <see cref="ResponseFlag.DownstreamDisconnect"/>.
    /// </summary>
    private void OnClientLeftMidBody(StreamedBodyReplay? replay)
    {
        replay?.Discard();
        _clientLeftMidBody = true;
        ResponseTimeout.OnDownstreamGone();
    }
}
