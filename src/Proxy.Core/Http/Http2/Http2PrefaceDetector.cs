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
    /// Waits for enough bytes to decide. True for the preface (or a broken one, see <see cref="IsHttp2"/>); false for anything else, for a connection that
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
                bool http2 = IsHttp2(status, ready.Buffer);
                input.AdvanceTo(ready.Buffer.Start);
                return ValueTask.FromResult(http2);
            }

            input.AdvanceTo(ready.Buffer.Start, ready.Buffer.End);
        }

        return WaitAndDetectAsync(input, timeout);
    }

    /// <summary>
    /// The preface, or bytes that begin like it and then differ: the HTTP/2 connection rejects those with GOAWAY
    /// PROTOCOL_ERROR (RFC 9113 3.4) instead of HTTP/1.1 answering a request line it never could.
    /// </summary>
    private static bool IsHttp2(Http2PrefaceStatus status, in ReadOnlySequence<byte> buffer) =>
        status == Http2PrefaceStatus.Valid || (status == Http2PrefaceStatus.Invalid && Http2ConnectionPreface.StartsLikePreface(buffer));

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
                    bool http2 = IsHttp2(status, buffer);
                    input.AdvanceTo(buffer.Start);
                    return http2;
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
