using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// Streams the downstream body to the HTTP/1.1 upstream, as it is or chunked with trailers. Every byte taken from
    /// the client is recorded in <paramref name="replay"/> (when the route retries); on a retry the bytes earlier tries
    /// took go first (<see cref="StreamedBodyReplay.WriteHeld"/>). A cancelled read (the forwarder ending the upload
    /// before a retry) takes nothing, so those bytes are still there for the next try.
    /// </summary>
    private async Task<bool> UploadToHttp1Async(Http2Stream stream, PipeWriter output, bool chunked, StreamedBodyReplay? replay)
    {
        try
        {
            replay?.WriteHeld(output, chunked);
            while (true)
            {
                ReadResult result = await stream.Input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    stream.Input.AdvanceTo(buffer.Start);
                    return false; // the exchange ended first, or a retry follows (see Http1UpstreamAttempts)
                }

                int length = (int)buffer.Length;
                if (length > 0)
                {
                    if (chunked)
                    {
                        ChunkedEncoder.WriteChunk(output, buffer);
                    }
                    else
                    {
                        foreach (ReadOnlyMemory<byte> segment in buffer)
                        {
                            output.Write(segment.Span);
                        }
                    }
                }

                replay?.Record(buffer); // taken from the client whether or not the send gets through: a retry sends it
                stream.Input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    if (chunked)
                    {
                        WriteLastChunk(output, stream);
                    }

                    await output.FlushAsync().ConfigureAwait(false);
                    await OnDataConsumed(stream, length).ConfigureAwait(false);
                    return true;
                }

                FlushResult flush = await output.FlushAsync().ConfigureAwait(false);
                await OnDataConsumed(stream, length).ConfigureAwait(false); // taken: the client's window gets it back either way
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    return false; // the upstream closed, or the forwarder ended the upload
                }
            }
        }
        catch (Exception ex) when (ex is Http2StreamResetException || IsConnectionLoss(ex))
        {
            replay?.Discard(); // the client reset its stream, or a write threw: no replay
            return false;
        }
    }

    private static void WriteLastChunk(PipeWriter output, Http2Stream stream)
    {
        if (!stream.HasTrailers || stream.ReceivedTrailers.Count == 0)
        {
            ChunkedEncoder.WriteLastChunk(output);
            return;
        }

        Write(output, "0\r\n"u8);
        Http2HeaderList trailers = stream.ReceivedTrailers;
        for (int i = 0; i < trailers.Count; i++)
        {
            WriteField(output, trailers.GetName(i), trailers.GetValue(i));
        }

        Write(output, "\r\n"u8);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CopyLengthAsync(PipeReader input, Http2Stream stream, long length)
    {
        long remaining = length;
        while (remaining > 0)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return false;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length > remaining)
            {
                buffer = buffer.Slice(0, remaining);
            }

            if (!buffer.IsEmpty)
            {
                remaining -= buffer.Length;
                bool sent = await SendDataAsync(stream, buffer, endStream: remaining == 0).ConfigureAwait(false);
                input.AdvanceTo(buffer.End);
                if (!sent)
                {
                    return false;
                }
            }
            else
            {
                input.AdvanceTo(buffer.End);
            }

            if (remaining > 0 && (result.IsCompleted || result.IsCanceled))
            {
                return false;
            }
        }

        return true;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Complete, long Bytes)> CopyChunkedAsync(PipeReader input, Http2Stream stream, ChunkedDecoder decoder)
    {
        decoder.Reset();
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            ChunkedDecodeStatus status;
            SequencePosition consumed;
            while (true)
            {
                status = DecodeOne(decoder, buffer, out ReadOnlySequence<byte> data, out consumed);
                if (status != ChunkedDecodeStatus.Data)
                {
                    break;
                }

                bytes += data.Length;
                bool sent = await SendDataAsync(stream, data, endStream: false).ConfigureAwait(false);
                buffer = buffer.Slice(consumed);
                if (!sent)
                {
                    input.AdvanceTo(consumed);
                    return (false, bytes);
                }
            }

            input.AdvanceTo(consumed, buffer.End);
            if (status == ChunkedDecodeStatus.Completed)
            {
                bool ended;
                if (decoder.Trailers.Length > 0)
                {
                    Http2HeaderList trailers = stream.Outgoing;
                    trailers.Reset();
                    for (int i = 0; i < decoder.Trailers.Length; i++)
                    {
                        if (!HopByHop.IsAlwaysHopByHop(decoder.GetTrailerName(i)))
                        {
                            trailers.AddLowercase(decoder.GetTrailerName(i), decoder.GetTrailerValue(i));
                        }
                    }

                    ended = await SendHeadersAsync(stream, trailers, endStream: true).ConfigureAwait(false);
                }
                else
                {
                    ended = await SendDataAsync(stream, ReadOnlySequence<byte>.Empty, endStream: true).ConfigureAwait(false);
                }

                return (ended, bytes);
            }

            if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted || result.IsCanceled)
            {
                return (false, bytes);
            }
        }
    }

    private static ChunkedDecodeStatus DecodeOne(ChunkedDecoder decoder, in ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkedDecodeStatus status = decoder.Decode(ref reader, out data);
        consumed = reader.Position;
        return status;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<(bool Complete, long Bytes)> CopyUntilCloseAsync(PipeReader input, Http2Stream stream)
    {
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bytes += buffer.Length;
            bool sent = await SendDataAsync(stream, buffer, endStream: result.IsCompleted).ConfigureAwait(false);
            input.AdvanceTo(buffer.End);
            if (!sent || result.IsCompleted || result.IsCanceled)
            {
                return (sent && result.IsCompleted, bytes);
            }
        }
    }
}
