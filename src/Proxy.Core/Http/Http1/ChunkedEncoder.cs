using System.Buffers;

namespace Proxy.Http.Http1;

/// <summary>
/// Writes the chunked transfer coding (RFC 9112 7.1): chunk headers around data the forwarder
/// streams, and the last-chunk with an optional trailer section. Extensions are never written.
/// </summary>
public static class ChunkedEncoder
{
    /// <summary>The bytes that end a chunked body without trailers: last-chunk and the empty trailer section.</summary>
    public static ReadOnlySpan<byte> LastChunk => "0\r\n\r\n"u8;

    /// <summary>Writes "size-in-hex CRLF" for a chunk of <paramref name="length"/> bytes (must be positive).</summary>
    public static void WriteChunkHeader(IBufferWriter<byte> output, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Span<byte> span = output.GetSpan(18);
        int n = 0;

        // Hex digits from the most significant non-zero nibble.
        int shift = (63 - (int)ulong.LeadingZeroCount((ulong)length)) & ~3;
        for (; shift >= 0; shift -= 4)
        {
            span[n++] = (byte)"0123456789abcdef"u8[(int)((length >> shift) & 0xF)];
        }

        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        output.Advance(n);
    }

    /// <summary>Writes the CRLF that ends a chunk's data.</summary>
    public static void WriteChunkEnd(IBufferWriter<byte> output) => Write(output, "\r\n"u8);

    /// <summary>Writes one whole chunk: header, data, CRLF. Empty data writes nothing (it would be the last-chunk).</summary>
    public static void WriteChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        WriteChunkHeader(output, data.Length);
        Write(output, data);
        WriteChunkEnd(output);
    }

    /// <summary>Writes one whole chunk from a possibly multi-segment sequence.</summary>
    public static void WriteChunk(IBufferWriter<byte> output, in ReadOnlySequence<byte> data)
    {
        if (data.IsEmpty) return;
        WriteChunkHeader(output, data.Length);
        foreach (ReadOnlyMemory<byte> segment in data) Write(output, segment.Span);
        WriteChunkEnd(output);
    }

    /// <summary>
    /// Writes "0" CRLF, then <paramref name="trailerLines"/> (complete field lines, each ending in
    /// CRLF, e.g. <see cref="ChunkedDecoder.TrailerBytes"/>), then the final CRLF.
    /// </summary>
    public static void WriteLastChunk(IBufferWriter<byte> output, ReadOnlySpan<byte> trailerLines = default)
    {
        if (trailerLines.IsEmpty)
        {
            Write(output, LastChunk);
            return;
        }

        Write(output, "0\r\n"u8);
        Write(output, trailerLines);
        Write(output, "\r\n"u8);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
