using System.Buffers;
using System.IO.Pipelines;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// Streams the HTTP/1.1 request body into the upstream stream, then END_STREAM. Every byte taken from the client
    /// is recorded in <paramref name="replay"/>; on a retry the bytes earlier attempts took go first and the body
    /// continues where they ended (the content-length left, the chunked decoder's state). A cancelled read (the
    /// forwarder ending the upload) takes nothing, so those bytes are still there for a retry.
    /// </summary>
    private async Task<bool> UploadToHttp2Async(Http2Stream stream, StreamedBodyReplay replay)
    {
        Http2Connection connection = stream.Connection;
        bool reading = false; // awaiting the client: a connection loss then is the client's going away
        bool first = true;    // the first read may find bytes an earlier try examined and left (see ReadClientAsync)
        BeginUploadWatch();
        try
        {
            if (!_request.IsChunked)
            {
                long remaining = _request.ContentLength - _uploadedBytes;
                if (!await replay.SendHeldAsync(stream, endStream: remaining == 0).ConfigureAwait(false))
                {
                    return false;
                }

                while (remaining > 0)
                {
                    reading = true;
                    ReadResult result = await ReadClientAsync(first).ConfigureAwait(false);
                    (reading, first) = (false, false);
                    if (result.IsCanceled)
                    {
                        _input.AdvanceTo(result.Buffer.Start);
                        return false;
                    }

                    ReadOnlySequence<byte> buffer = result.Buffer.Length > remaining ? result.Buffer.Slice(0, remaining) : result.Buffer;
                    remaining -= buffer.Length;
                    bool sent = await connection.SendDataAsync(stream, buffer, endStream: remaining == 0).ConfigureAwait(false);

                    // Taken from the client whether or not the send got through: a retry sends it.
                    replay.Record(buffer);
                    _input.AdvanceTo(buffer.End);
                    _uploadedBytes += buffer.Length;

                    if (!sent)
                    {
                        return false;
                    }

                    if (remaining > 0 && result.IsCompleted)
                    {
                        // The client closed mid-body: nothing a retry could complete, and the upstream would wait
                        // for the rest; its stream is reset (RFC 9113 8.1), which also ends the response wait.
                        OnClientLeftMidBody(replay);
                        await connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                        return false;
                    }
                }

                await WatchAfterUploadAsync().ConfigureAwait(false);
                return true;
            }

            bool ended = RequestChunks.IsCompleted;
            if (!await replay.SendHeldAsync(stream, endStream: ended).ConfigureAwait(false))
            {
                return false;
            }

            if (ended)
            {
                await WatchAfterUploadAsync().ConfigureAwait(false);
                return true;
            }

            while (true)
            {
                reading = true;
                ReadResult result = await ReadClientAsync(first).ConfigureAwait(false);
                (reading, first) = (false, false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    _input.AdvanceTo(buffer.Start);
                    return false;
                }

                ChunkedDecodeStatus status;
                SequencePosition consumed;
                while ((status = DecodeRequestChunk(buffer, out ReadOnlySequence<byte> data, out consumed)) == ChunkedDecodeStatus.Data)
                {
                    _uploadedBytes += data.Length;
                    if (_maxBodyBytes > 0 && _uploadedBytes > _maxBodyBytes)
                    {
                        // Over the listener's limit mid-stream: the upstream stream is reset, the client gets 413.
                        _input.AdvanceTo(consumed);
                        _uploadTooLarge = true;
                        replay.Discard();
                        await connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                        return false;
                    }

                    bool sent = await connection.SendDataAsync(stream, data, endStream: false).ConfigureAwait(false);
                    replay.Record(data); // the decoder has taken the chunk: a retry sends it
                    buffer = buffer.Slice(consumed);
                    if (!sent)
                    {
                        _input.AdvanceTo(consumed);
                        return false;
                    }
                }

                _input.AdvanceTo(consumed, buffer.End);
                if (status == ChunkedDecodeStatus.Completed)
                {
                    bool endSent = await connection.SendDataAsync(stream, ReadOnlySequence<byte>.Empty, endStream: true).ConfigureAwait(false);
                    if (endSent)
                    {
                        await WatchAfterUploadAsync().ConfigureAwait(false);
                    }

                    return endSent;
                }

                if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted)
                {
                    // A malformed or truncated body: nothing a retry could complete. The upstream stream is reset
                    // (RFC 9113 8.1: the request can never be complete), which also ends the wait for its response;
                    // a malformed one is answered 400.
                    if (status == ChunkedDecodeStatus.Invalid)
                    {
                        replay.Discard();
                        _uploadError = RequestChunks.Error;
                    }
                    else
                    {
                        OnClientLeftMidBody(replay); // the client closed before its last chunk
                    }

                    await connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                    return false;
                }
            }
        }
        catch (Exception ex) when (Http2Connection.IsConnectionLoss(ex))
        {
            // The client went away, or a send threw before what it took was recorded: no replay.
            if (reading)
            {
                OnClientLeftMidBody(replay); // the response wait ends, and the upstream stream is reset with it
            }

            replay.Discard();
            return false;
        }
    }

    private ChunkedDecodeStatus DecodeRequestChunk(in ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkedDecodeStatus status = RequestChunks.Decode(ref reader, out data);
        consumed = reader.Position;
        return status;
    }

    /// <summary>Copies the upstream stream's body to the client (chunked or as is) and its trailers as chunked trailers.</summary>
    private async ValueTask<(bool Complete, long Bytes)> RelayHttp2BodyAsync(Http2Stream stream, bool chunked)
    {
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await stream.Input.ReadAsync().ConfigureAwait(false);
            }
            catch (Http2StreamResetException)
            {
                await _output.FlushAsync().ConfigureAwait(false);
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (!buffer.IsEmpty)
            {
                if (chunked)
                {
                    ChunkedEncoder.WriteChunk(_output, buffer);
                }
                else
                {
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        _output.Write(segment.Span);
                    }
                }
            }

            int length = (int)buffer.Length;
            bytes += length;
            stream.Input.AdvanceTo(buffer.End);
            _activity.Value = Environment.TickCount64;
            if (result.IsCompleted)
            {
                if (chunked)
                {
                    _output.Write("0\r\n"u8);
                    if (stream.HasTrailers)
                    {
                        Http2HeaderList trailers = stream.ReceivedTrailers;
                        for (int i = 0; i < trailers.Count; i++)
                        {
                            _output.Write(trailers.GetName(i));
                            _output.Write(": "u8);
                            _output.Write(trailers.GetValue(i));
                            _output.Write("\r\n"u8);
                        }
                    }

                    _output.Write("\r\n"u8);
                }

                FlushResult done = await _output.FlushAsync().ConfigureAwait(false);
                return (!done.IsCompleted, bytes);
            }

            FlushResult flush = await _output.FlushAsync().ConfigureAwait(false);
            await stream.Connection.OnDataConsumed(stream, length).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                return (false, bytes);
            }
        }
    }
}
