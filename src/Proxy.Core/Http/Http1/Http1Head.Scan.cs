using System.Buffers;

namespace Proxy.Http.Http1;

/// <summary>Locating the end of a head in input that may be split across segments and calls.</summary>
public abstract partial class Http1Head
{
    // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request-line.
    // We ignore a few (a client's stray CRLF after a body) and no more.
    private const int MaxLeadingEmptyLineBytes = 8;

    // Scan progress, relative to the first unread byte, kept across "need more" calls.
    private int _scanOffset;
    private int _lineStart;
    private int _startLineEnd = -1;
    private int _prefixLength;
    private byte _previousByte;

    private void ResetScan()
    {
        _scanOffset = 0;
        _lineStart = 0;
        _startLineEnd = -1;
        _prefixLength = 0;
        _previousByte = 0;
    }

    /// <summary>
    /// Finds the empty line that ends the head (RFC 9112 2.1: start-line *( field-line CRLF ) CRLF).
    /// Sets <paramref name="headLength"/> to the bytes through that CRLF, or 0 when more input is needed.
    /// Every LF must follow a CR; the size limits are enforced before the end is seen.
    /// </summary>
    private Http1ParseError Locate(ref SequenceReader<byte> input, bool isRequest, out int headLength)
    {
        headLength = 0;
        Http1ParseError error = Http1ParseError.None;

        // Fast path: the head usually sits in the first segment.
        ReadOnlySpan<byte> first = input.UnreadSpan;
        if (_scanOffset < first.Length)
        {
            error = ScanChunk(first, 0, isRequest, out headLength);
            if (error != Http1ParseError.None || headLength != 0) return Finish(ref input, error);
        }

        if (input.Remaining > first.Length)
        {
            int chunkBase = first.Length;
            foreach (ReadOnlyMemory<byte> memory in input.UnreadSequence.Slice(first.Length))
            {
                int chunkEnd = chunkBase + memory.Length;
                if (chunkEnd > _scanOffset)
                {
                    error = ScanChunk(memory.Span, chunkBase, isRequest, out headLength);
                    if (error != Http1ParseError.None || headLength != 0) break;
                }

                chunkBase = chunkEnd;
            }
        }

        return Finish(ref input, error);
    }

    private Http1ParseError Finish(ref SequenceReader<byte> input, Http1ParseError error)
    {
        if (error != Http1ParseError.StartLineTooLong || this is not Http1RequestHead) return error;

        // An overlong request line: if a method and a space came first, the target is what is too
        // long (414); if not, the line is garbage (400).
        // Read across segments: the first one may end before the space.
        ReadOnlySequence<byte> rest = input.UnreadSequence;
        rest = rest.Slice(Math.Min(_prefixLength, rest.Length));
        Span<byte> start = stackalloc byte[32];
        start = start[..(int)Math.Min(start.Length, rest.Length)];
        rest.Slice(0, start.Length).CopyTo(start);
        return start.Contains((byte)' ') ? Http1ParseError.RequestTargetTooLong : Http1ParseError.InvalidRequestLine;
    }

    /// <summary>Scans one contiguous piece that starts at offset <paramref name="chunkBase"/> of the unread input.</summary>
    private Http1ParseError ScanChunk(ReadOnlySpan<byte> chunk, int chunkBase, bool isRequest, out int headLength)
    {
        headLength = 0;
        int i = _scanOffset - chunkBase;
        while (true)
        {
            int relative = chunk[i..].IndexOf((byte)'\n');
            if (relative < 0) break;

            int lfIndex = i + relative;
            int lf = chunkBase + lfIndex;

            // The size limits first, with the same bounds as the checks on incomplete input below (which run where
            // a segment ends): otherwise a head over a limit got 431 or 400 depending on where the network cut it
            // (found by fuzzing whole against split input).
            if (_startLineEnd < 0 ? lf - _prefixLength > Limits.MaxStartLineLength : lf - _startLineEnd > Limits.MaxHeaderBytes + 2)
            {
                return _startLineEnd < 0 ? Http1ParseError.StartLineTooLong : Http1ParseError.HeadersTooLarge;
            }

            byte before = lfIndex > 0 ? chunk[lfIndex - 1] : _previousByte;

            // RFC 9112 2.2 lets a recipient accept a bare LF; a proxy that did so would disagree with
            // stricter peers about where lines end, which is how requests get smuggled.
            if (lf == 0 || before != (byte)'\r') return Http1ParseError.BareLineFeed;

            int lineLength = lf - _lineStart; // including the CR
            if (_startLineEnd < 0)
            {
                if (lineLength == 1)
                {
                    if (!isRequest || lf + 1 > MaxLeadingEmptyLineBytes)
                    {
                        return isRequest ? Http1ParseError.InvalidRequestLine : Http1ParseError.InvalidStatusLine;
                    }

                    _prefixLength = lf + 1;
                }
                else
                {
                    if (lf + 1 - _prefixLength > Limits.MaxStartLineLength) return Http1ParseError.StartLineTooLong;
                    _startLineEnd = lf + 1;
                }
            }
            else if (lineLength == 1)
            {
                // The empty line: the field lines are [_startLineEnd, lf - 1).
                if (lf - 1 - _startLineEnd > Limits.MaxHeaderBytes) return Http1ParseError.HeadersTooLarge;
                headLength = lf + 1;
                return Http1ParseError.None;
            }

            _lineStart = lf + 1;
            i = lfIndex + 1;
        }

        _scanOffset = chunkBase + chunk.Length;
        if (chunk.Length > 0) _previousByte = chunk[^1];

        // Enforce the limits on the incomplete part too, so a peer cannot make us buffer without end.
        if (_startLineEnd < 0)
        {
            if (_scanOffset - _prefixLength > Limits.MaxStartLineLength) return Http1ParseError.StartLineTooLong;
        }
        else if (_scanOffset - _startLineEnd > Limits.MaxHeaderBytes + 2)
        {
            return Http1ParseError.HeadersTooLarge;
        }

        return Http1ParseError.None;
    }
}
