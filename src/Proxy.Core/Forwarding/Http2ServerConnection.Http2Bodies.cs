using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http2;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// Waits until the whole request body is buffered in the stream (END_STREAM), without consuming it, so each
    /// attempt can send it. The bytes are credited back to the connection window as they arrive, so streams that
    /// wait do not starve the others; the content-length (checked by the codec, 8.1.1) bounds what one holds.
    /// False when the client reset the stream.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> AwaitWholeBodyAsync(Http2Stream stream)
    {
        long credited = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await stream.Input.ReadAsync().ConfigureAwait(false);
            }
            catch (Http2StreamResetException)
            {
                return false;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            stream.Input.AdvanceTo(buffer.Start, buffer.End);
            if (buffer.Length > credited)
            {
                await stream.Connection.OnDataConsumed(stream, (int)(buffer.Length - credited)).ConfigureAwait(false);
                credited = buffer.Length;
            }

            if (result.IsCompleted)
            {
                return true;
            }

            if (result.IsCanceled)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Sends a request body that arrived whole (and its trailers) without consuming it from the downstream stream,
    /// so a retry can send it again. False when the upstream stream can no longer take it.
    /// </summary>
    private static async Task<bool> SendBodyInHandAsync(Http2Stream source, Http2Stream target)
    {
        ReadResult result;
        try
        {
            result = await source.Input.ReadAsync().ConfigureAwait(false);
        }
        catch (Http2StreamResetException)
        {
            return false;
        }

        ReadOnlySequence<byte> body = result.Buffer;
        bool sent;
        try
        {
            sent = await target.Connection.SendDataAsync(target, body, endStream: !source.HasTrailers).ConfigureAwait(false);
        }
        finally
        {
            source.Input.AdvanceTo(body.Start, body.End);
        }

        if (!sent || !source.HasTrailers)
        {
            return sent;
        }

        return await ForwardTrailersAsync(source, target).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="source"/>'s trailers on <paramref name="target"/>, ending it (END_STREAM on the block).</summary>
    private static ValueTask<bool> ForwardTrailersAsync(Http2Stream source, Http2Stream target)
    {
        Http2HeaderList trailers = target.Outgoing;
        trailers.Reset();
        CopyRegularFields(trailers, source.ReceivedTrailers);
        return target.Connection.SendHeadersAsync(target, trailers, endStream: true);
    }

    private static void CopyRegularFields(Http2HeaderList target, Http2HeaderList source)
    {
        for (int i = 0; i < source.Count; i++)
        {
            target.CopyField(source, i);
        }
    }

    /// <summary>
    /// Streams the client's request body to the upstream stream, its trailers or END_STREAM last. Every byte taken
    /// from the client is recorded in <paramref name="replay"/>; on a retry the bytes earlier attempts took go first.
    /// On failure the upstream stream is reset.
    /// </summary>
    private static async Task<bool> UploadToHttp2Async(Http2Stream source, Http2Stream target, StreamedBodyReplay replay)
    {
        try
        {
            if (await replay.SendHeldAsync(target, endStream: false).ConfigureAwait(false) &&
                await RelayRequestBodyAsync(source, target, replay).ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            // The client's connection went away, or a send threw before what it took was recorded: no replay.
            replay.Discard();
        }

        await target.Connection.ResetAsync(target, Http2ErrorCode.Cancel).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// <see cref="RelayBodyAsync"/> for the request side: each read is recorded for a retry, and a cancelled read
    /// (the forwarder ending the upload) takes nothing, so its bytes are still there for the next attempt.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> RelayRequestBodyAsync(Http2Stream source, Http2Stream target, StreamedBodyReplay replay)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await source.Input.ReadAsync().ConfigureAwait(false);
            }
            catch (Http2StreamResetException)
            {
                replay.Discard(); // the client reset its stream: nothing a retry could complete
                return false;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (result.IsCanceled)
            {
                source.Input.AdvanceTo(buffer.Start);
                return false;
            }

            bool end = result.IsCompleted;
            bool last = end && !source.HasTrailers;
            bool sent = true;
            if (!buffer.IsEmpty || last)
            {
                sent = await target.Connection.SendDataAsync(target, buffer, last).ConfigureAwait(false);
            }

            // Taken from the client whether or not the send got through: a retry sends it.
            replay.Record(buffer);
            int length = (int)buffer.Length;
            source.Input.AdvanceTo(buffer.End);
            await source.Connection.OnDataConsumed(source, length).ConfigureAwait(false);
            if (!sent)
            {
                return false;
            }

            if (end)
            {
                if (!source.HasTrailers)
                {
                    return true;
                }

                return await ForwardTrailersAsync(source, target).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Copies the body of <paramref name="source"/> to <paramref name="target"/> (they live on different connections),
    /// crediting the source's windows as bytes leave, then its trailers or END_STREAM. False on a reset either side.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> RelayBodyAsync(Http2Stream source, Http2Stream target)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await source.Input.ReadAsync().ConfigureAwait(false);
            }
            catch (Http2StreamResetException)
            {
                return false;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bool end = result.IsCompleted;
            bool last = end && !source.HasTrailers;
            bool sent = true;
            if (!buffer.IsEmpty || last)
            {
                sent = await target.Connection.SendDataAsync(target, buffer, last).ConfigureAwait(false);
            }

            int length = (int)buffer.Length;
            source.Input.AdvanceTo(buffer.End);
            await source.Connection.OnDataConsumed(source, length).ConfigureAwait(false);
            if (!sent || result.IsCanceled)
            {
                return false;
            }

            if (end)
            {
                if (!source.HasTrailers)
                {
                    return true;
                }

                return await ForwardTrailersAsync(source, target).ConfigureAwait(false);
            }
        }
    }
}
