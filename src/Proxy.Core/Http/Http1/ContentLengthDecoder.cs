using System.Buffers;

namespace Proxy.Http.Http1;

/// <summary>
/// Tracks a Content-Length delimited body (RFC 9112 6.2): hands out slices of the input until
/// the declared number of bytes has passed, and never more, so a pipelined next message stays unread.
/// </summary>
public sealed class ContentLengthDecoder
{
    /// <summary>Bytes of the body not yet read.</summary>
    public long Remaining { get; private set; }

    /// <summary>True when the whole body has been read.</summary>
    public bool IsCompleted => Remaining == 0;

    /// <summary>Starts a body of <paramref name="contentLength"/> bytes.</summary>
    public void Reset(long contentLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contentLength);
        Remaining = contentLength;
    }

    /// <summary>
    /// Consumes and returns the next piece of the body from <paramref name="input"/>; false when the
    /// input is empty or the body is complete.
    /// </summary>
    public bool TryRead(ref SequenceReader<byte> input, out ReadOnlySequence<byte> data)
    {
        long take = Math.Min(Remaining, input.Remaining);
        if (take == 0)
        {
            data = default;
            return false;
        }

        data = input.Sequence.Slice(input.Position, take);
        input.Advance(take);
        Remaining -= take;
        return true;
    }
}
