using System.Buffers;

namespace Proxy.Http.Http2;

/// <summary>
/// The client connection preface of RFC 9113 section 3.4, sent by the client (our upstream side) and checked by
/// the server (our downstream side) before the first SETTINGS frame.
/// </summary>
public static class Http2ConnectionPreface
{
    /// <summary>Length of the preface.</summary>
    public const int Length = 24;

    /// <summary>"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".</summary>
    public static ReadOnlySpan<byte> Bytes => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>
    /// Checks the start of <paramref name="input"/>. A mismatch is reported as soon as one byte differs, so
    /// protocol detection need not wait for 24 bytes; the preface is consumed only when <see cref="Http2PrefaceStatus.Valid"/>.
    /// </summary>
    public static Http2PrefaceStatus TryRead(ref SequenceReader<byte> input)
    {
        ReadOnlySpan<byte> unread = input.UnreadSpan;
        int available = (int)Math.Min(input.Remaining, Length);
        if (unread.Length >= available)
        {
            return Check(ref input, unread[..available]);
        }

        Span<byte> copy = stackalloc byte[Length];
        input.TryCopyTo(copy[..available]);
        return Check(ref input, copy[..available]);
    }

    /// <summary>Writes the preface (the client side sends it first, then its SETTINGS).</summary>
    public static void Write(IBufferWriter<byte> output)
    {
        Bytes.CopyTo(output.GetSpan(Length));
        output.Advance(Length);
    }

    private static Http2PrefaceStatus Check(ref SequenceReader<byte> input, scoped ReadOnlySpan<byte> start)
    {
        if (!Bytes.StartsWith(start))
        {
            return Http2PrefaceStatus.Invalid;
        }

        if (start.Length < Length)
        {
            return Http2PrefaceStatus.NeedMoreData;
        }

        input.Advance(Length);
        return Http2PrefaceStatus.Valid;
    }
}
