using System.Buffers;

namespace Proxy.Http.Http2.HPack;

/// <summary>
/// Encodes header fields into HPACK (RFC 7541): static and dynamic table lookups, optional incremental indexing,
/// Huffman coding when it is shorter, and dynamic table size updates. One instance per connection and direction:
/// it owns the mirror of the peer decoder's dynamic table.
/// </summary>
/// <remarks>
/// Names must already be lowercase (RFC 9113 8.2.1). Fields are encoded one at a time into the caller's buffer;
/// the fields of one block must be encoded back to back, and <see cref="SetMaxTableSize"/> called only between
/// blocks, because a pending size update is written before the next field.
/// </remarks>
public sealed class HPackEncoder
{
    private readonly HPackDynamicTable _table;
    private readonly int _tableSizeCap;
    private readonly bool _useHuffman;
    private int _pendingMinSize = -1;   // smallest size set since the last block, -1 when no update is pending
    private int _pendingFinalSize = -1; // size to announce last

    /// <summary>
    /// Creates an encoder. <paramref name="maxTableSize"/> is both the table size both sides start with (4096 for
    /// HTTP/2) and the most this encoder will ever use, whatever the peer allows.
    /// </summary>
    public HPackEncoder(int maxTableSize = HPackDecoder.DefaultMaxTableSize, bool useHuffman = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableSize);
        _table = new HPackDynamicTable(maxTableSize);
        _tableSizeCap = maxTableSize;
        _useHuffman = useHuffman;
    }

    /// <summary>The encoder's mirror of the peer's dynamic table.</summary>
    public HPackDynamicTable DynamicTable => _table;

    /// <summary>
    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE. The table used is the smaller of it and this encoder's cap;
    /// when that changes, size updates are written at the start of the next block (RFC 7541 4.2, 6.3).
    /// </summary>
    public void SetMaxTableSize(int peerMaxTableSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(peerMaxTableSize);
        int size = Math.Min(peerMaxTableSize, _tableSizeCap);
        int current = _pendingFinalSize >= 0 ? _pendingFinalSize : _table.MaxSize;
        if (size == current)
        {
            return;
        }

        _pendingMinSize = _pendingMinSize < 0 ? size : Math.Min(_pendingMinSize, size);
        _pendingFinalSize = size;
    }

    /// <summary>Upper bound of the bytes <see cref="TryEncode"/> may write for a field (a pending size update included).</summary>
    public static int GetMaxEncodedLength(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        (3 * HPackInteger.MaxEncodedLength) + (2 * HPackInteger.MaxEncodedLength) + name.Length + value.Length;

    /// <summary>
    /// Encodes one field. Returns false, with the encoder state unchanged, when <paramref name="destination"/> is
    /// shorter than <see cref="GetMaxEncodedLength"/>: checking the worst case first means a table change is never
    /// half written.
    /// </summary>
    public bool TryEncode(
        ReadOnlySpan<byte> name,
        ReadOnlySpan<byte> value,
        HPackIndexing indexing,
        Span<byte> destination,
        out int bytesWritten)
    {
        bytesWritten = 0;
        if (destination.Length < GetMaxEncodedLength(name, value))
        {
            return false;
        }

        int position = 0;
        if (_pendingFinalSize >= 0 && !TryWriteSizeUpdates(destination, ref position))
        {
            return false;
        }

        if (indexing != HPackIndexing.NeverIndexed)
        {
            int staticIndex = HPackStaticTable.Find(name, value, out bool staticFull);
            if (staticFull)
            {
                return TryWriteIndexed(staticIndex, destination, ref position, out bytesWritten);
            }

            int dynamicIndex = _table.Find(name, value, out bool dynamicFull);
            if (dynamicFull)
            {
                return TryWriteIndexed(dynamicIndex + HPackStaticTable.Count + 1, destination, ref position, out bytesWritten);
            }

            // Prefer the static name index: it never moves, and it is what RFC 7541 Appendix C shows.
            int nameIndex = staticIndex != 0 ? staticIndex
                : dynamicIndex >= 0 ? dynamicIndex + HPackStaticTable.Count + 1
                : 0;

            // A field bigger than the table would empty it on both sides: send it without indexing instead.
            if (indexing == HPackIndexing.Incremental &&
                name.Length + value.Length + HPackDynamicTable.EntryOverhead > _table.MaxSize)
            {
                indexing = HPackIndexing.WithoutIndexing;
            }

            return TryWriteLiteral(name, value, nameIndex, indexing, destination, position, out bytesWritten);
        }
        else
        {
            // 6.2.3: keep sensitive fields out of every table; a static name index reveals nothing.
            int staticIndex = HPackStaticTable.Find(name, value, out _);
            int nameIndex = staticIndex;
            if (nameIndex == 0)
            {
                int dynamicIndex = _table.Find(name, default, out _);
                nameIndex = dynamicIndex >= 0 ? dynamicIndex + HPackStaticTable.Count + 1 : 0;
            }

            return TryWriteLiteral(name, value, nameIndex, indexing, destination, position, out bytesWritten);
        }
    }

    /// <summary>Encodes one field into <paramref name="output"/> (GetSpan, fill, Advance).</summary>
    public void Encode(
        IBufferWriter<byte> output,
        ReadOnlySpan<byte> name,
        ReadOnlySpan<byte> value,
        HPackIndexing indexing = HPackIndexing.Incremental)
    {
        Span<byte> span = output.GetSpan(GetMaxEncodedLength(name, value));
        if (!TryEncode(name, value, indexing, span, out int written))
        {
            ThrowBufferTooSmall();
        }

        output.Advance(written);
    }

    private bool TryWriteSizeUpdates(Span<byte> destination, ref int position)
    {
        // RFC 7541 4.2: after several changes between two blocks, announce the smallest, then the final size.
        int start = position;
        if (_pendingMinSize < _pendingFinalSize)
        {
            if (!HPackInteger.TryEncode(_pendingMinSize, 5, 0x20, destination[position..], out int written))
            {
                position = start;
                return false;
            }

            position += written;
        }

        if (!HPackInteger.TryEncode(_pendingFinalSize, 5, 0x20, destination[position..], out int finalWritten))
        {
            position = start;
            return false;
        }

        position += finalWritten;
        _table.SetMaxSize(_pendingMinSize);
        _table.SetMaxSize(_pendingFinalSize);
        _pendingMinSize = -1;
        _pendingFinalSize = -1;
        return true;
    }

    private static bool TryWriteIndexed(int index, Span<byte> destination, ref int position, out int bytesWritten)
    {
        // RFC 7541 6.1: | 1 | Index (7+) |
        if (!HPackInteger.TryEncode(index, 7, 0x80, destination[position..], out int written))
        {
            bytesWritten = 0;
            return false;
        }

        bytesWritten = position + written;
        return true;
    }

    private bool TryWriteLiteral(
        ReadOnlySpan<byte> name,
        ReadOnlySpan<byte> value,
        int nameIndex,
        HPackIndexing indexing,
        Span<byte> destination,
        int position,
        out int bytesWritten)
    {
        bytesWritten = 0;

        // RFC 7541 6.2.1 (01, 6-bit index), 6.2.2 (0000, 4-bit index), 6.2.3 (0001, 4-bit index).
        (byte pattern, int prefixBits) = indexing switch
        {
            HPackIndexing.Incremental => ((byte)0x40, 6),
            HPackIndexing.WithoutIndexing => ((byte)0x00, 4),
            _ => ((byte)0x10, 4),
        };

        if (!HPackInteger.TryEncode(nameIndex, prefixBits, pattern, destination[position..], out int written))
        {
            return false;
        }

        position += written;
        if (nameIndex == 0 && !TryWriteString(name, destination, ref position, _useHuffman))
        {
            return false;
        }

        // A value sent without indexing is one that changes from message to message (a request id, a trace
        // context, a content length): Huffman-coding it costs two passes over it for each message and saves a
        // quarter of its bytes once, so it goes raw, as HAProxy sends every literal. Indexed values are coded
        // once and then cost one byte each time.
        if (!TryWriteString(value, destination, ref position, _useHuffman && indexing == HPackIndexing.Incremental))
        {
            return false;
        }

        if (indexing == HPackIndexing.Incremental)
        {
            _table.Insert(name, value);
        }

        bytesWritten = position;
        return true;
    }

    // RFC 7541 5.2: | H | String Length (7+) | String Data |
    private static bool TryWriteString(ReadOnlySpan<byte> text, Span<byte> destination, ref int position, bool huffman)
    {
        if (huffman)
        {
            // Huffman unless it is longer; a tie goes to Huffman, as in RFC 7541 C.6.2 ("307").
            int huffmanLength = HPackHuffman.GetEncodedLength(text);
            if (huffmanLength <= text.Length && !text.IsEmpty)
            {
                if (!HPackInteger.TryEncode(huffmanLength, 7, 0x80, destination[position..], out int lengthBytes) ||
                    !HPackHuffman.TryEncode(text, destination[(position + lengthBytes)..], out int dataBytes))
                {
                    return false;
                }

                position += lengthBytes + dataBytes;
                return true;
            }
        }

        if (!HPackInteger.TryEncode(text.Length, 7, 0x00, destination[position..], out int written) ||
            text.Length > destination.Length - position - written)
        {
            return false;
        }

        text.CopyTo(destination[(position + written)..]);
        position += written + text.Length;
        return true;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowBufferTooSmall() => throw new InvalidOperationException("The buffer writer returned less than the requested span.");
}
