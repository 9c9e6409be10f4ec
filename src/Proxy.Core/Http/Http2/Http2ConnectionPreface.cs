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

    /// <summary>Length of the preface's first line, "PRI * HTTP/2.0" (without its CRLF).</summary>
    public const int RequestLineLength = 14;

    /// <summary>
    /// True when <paramref name="input"/> opens with the preface's first line, "PRI * HTTP/2.0": no HTTP/1.1 client
    /// sends that (RFC 9113 3.4 chose it to fail on HTTP/1.1 servers), so bytes that start so and then differ come
    /// from a broken HTTP/2 client, which is owed a GOAWAY with PROTOCOL_ERROR rather than an HTTP/1.1 answer.
    /// </summary>
    public static bool StartsLikePreface(in ReadOnlySequence<byte> input)
    {
        if (input.Length < RequestLineLength)
        {
            return false;
        }

        Span<byte> start = stackalloc byte[RequestLineLength];
        input.Slice(0, RequestLineLength).CopyTo(start);
        return start.SequenceEqual(Bytes[..RequestLineLength]);
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
