using System.Buffers;
using System.IO.Pipelines;

namespace Proxy.Http.Http2;

/// <summary>
/// Protocol detection on a fresh plain-text connection: does it open with the HTTP/2 client preface (h2c with prior
/// knowledge, RFC 9113 3.3)? Peeks without consuming, so the chosen handler reads the bytes again.
/// </summary>
public static class Http2PrefaceDetector
{
    /// <summary>
    /// Waits for enough bytes to decide. True for the preface; false for anything else, for a connection that
    /// closed, or when <paramref name="timeout"/> passed first (the HTTP/1.1 handler then applies its own limits).
    /// </summary>
    public static ValueTask<bool> IsHttp2Async(PipeReader input, TimeSpan timeout)
    {
        // Usually the first bytes are already here: decide without arming a timer (a timer per
        // connection is a measurable part of accepting one).
        if (input.TryRead(out var ready))
        {
            var reader = new SequenceReader<byte>(ready.Buffer);
            var status = Http2ConnectionPreface.TryRead(ref reader);
            if (status != Http2PrefaceStatus.NeedMoreData || ready.IsCompleted || ready.IsCanceled)
            {
                input.AdvanceTo(ready.Buffer.Start);
                return ValueTask.FromResult(status == Http2PrefaceStatus.Valid);
            }

            input.AdvanceTo(ready.Buffer.Start, ready.Buffer.End);
        }

        return WaitAndDetectAsync(input, timeout);
    }

    private static async ValueTask<bool> WaitAndDetectAsync(PipeReader input, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(deadline.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                var reader = new SequenceReader<byte>(buffer);
                Http2PrefaceStatus status = Http2ConnectionPreface.TryRead(ref reader);

                // Nothing consumed and nothing examined either when decided, so the next read returns these bytes at once.
                if (status != Http2PrefaceStatus.NeedMoreData || result.IsCompleted || result.IsCanceled)
                {
                    input.AdvanceTo(buffer.Start);
                    return status == Http2PrefaceStatus.Valid;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
