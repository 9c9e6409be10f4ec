using System.Buffers;

namespace Proxy.Http.Http2.HPack;

/// <summary>
/// Decodes complete HPACK header blocks (RFC 7541) into an <see cref="IHPackHeaderHandler"/>. One instance per
/// connection and direction: it owns the dynamic table the peer's encoder writes to.
/// </summary>
/// <remarks>
/// The block must be whole (HEADERS or PUSH_PROMISE plus its CONTINUATIONs, see
/// <see cref="Http2HeaderBlockBuffer"/>), so no state is kept between calls other than the dynamic table.
/// Literal strings without Huffman coding are handed out as slices of the block; Huffman strings are decoded into
/// a scratch buffer owned by the decoder. Nothing is allocated per field.
/// </remarks>
public sealed class HPackDecoder
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE default (RFC 9113 6.5.2).</summary>
    public const int DefaultMaxTableSize = 4096;

    /// <summary>A header list limit that suits a proxy; the RFC default is unlimited.</summary>
    public const int DefaultMaxHeaderListSize = 16 * 1024;

    private readonly HPackDynamicTable _table;
    private readonly int _maxHeaderListSize;
    private byte[] _scratch;
    private int _maxTableSizeLimit;
    private bool _sizeUpdateRequired;

    /// <summary>
    /// Creates a decoder. <paramref name="maxTableSize"/> is the SETTINGS_HEADER_TABLE_SIZE this side advertises;
    /// <paramref name="maxHeaderListSize"/> bounds the decoded list (RFC 9113 6.5.2 accounting).
    /// </summary>
    public HPackDecoder(int maxTableSize = DefaultMaxTableSize, int maxHeaderListSize = DefaultMaxHeaderListSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderListSize);
        _table = new HPackDynamicTable(maxTableSize);
        _maxTableSizeLimit = maxTableSize;
        _maxHeaderListSize = maxHeaderListSize;
        _scratch = new byte[Math.Max(maxTableSize, maxHeaderListSize)];
    }

    /// <summary>The table the peer's encoder maintains a mirror of.</summary>
    public HPackDynamicTable DynamicTable => _table;

    /// <summary>The limit on the decoded header list size.</summary>
    public int MaxHeaderListSize => _maxHeaderListSize;

    /// <summary>Why the last <see cref="HPackDecodeStatus.CompressionError"/> happened (a constant, for logs and GOAWAY debug data).</summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// Applies a new SETTINGS_HEADER_TABLE_SIZE of this side, once the peer has acknowledged it. When it is lower
    /// than the table's current maximum, the peer must open its next block with a size update (RFC 7541 4.2).
    /// </summary>
    public void SetMaxTableSizeLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (limit < _table.MaxSize)
        {
            _sizeUpdateRequired = true;
        }

        if (limit > _scratch.Length)
        {
            _scratch = new byte[limit];
        }

        _maxTableSizeLimit = limit;
    }

    /// <summary>
    /// Decodes one complete header block, calling <paramref name="handler"/> once per field in order.
    /// </summary>
    public HPackDecodeStatus Decode<THandler>(ReadOnlySpan<byte> block, ref THandler handler)
        where THandler : IHPackHeaderHandler, allows ref struct
    {
        int position = 0;
        bool fieldSeen = false;
        long listSize = 0;
        bool tooLarge = false;
        while (position < block.Length)
        {
            byte first = block[position];
            ReadOnlySpan<byte> name;
            ReadOnlySpan<byte> value;
            bool neverIndexed = false;
            if ((first & 0x80) != 0)
            {
                //   0   1   2   3   4   5   6   7
                // +---+---+---+---+---+---+---+---+
                // | 1 |        Index (7+)         |      RFC 7541 6.1 Indexed Header Field
                // +---+---------------------------+
                if (!TryReadInteger(block, ref position, 7, out int index) || !TryGetIndexed(index, out name, out value))
                {
                    return HPackDecodeStatus.CompressionError;
                }
            }
            else if ((first & 0xC0) == 0x40)
            {
                // | 0 | 1 |      Index (6+)       |      RFC 7541 6.2.1 Literal with Incremental Indexing
                // | H |     Value Length (7+)     |      (Index 0: the name follows as a string literal)
                // | Value String (Length octets)  |
                if (!TryReadLiteral(block, ref position, 6, indexing: true, out name, out value, ref tooLarge))
                {
                    return HPackDecodeStatus.CompressionError;
                }
            }
            else if ((first & 0xE0) == 0x20)
            {
                // | 0 | 0 | 1 |   Max size (5+)   |      RFC 7541 6.3 Dynamic Table Size Update
                if (fieldSeen)
                {
                    // 4.2: only at the beginning of a header block.
                    return Fail("dynamic table size update after a field");
                }

                if (!TryReadInteger(block, ref position, 5, out int maxSize))
                {
                    return HPackDecodeStatus.CompressionError;
                }

                if (maxSize > _maxTableSizeLimit)
                {
                    // 6.3: exceeding the SETTINGS_HEADER_TABLE_SIZE limit is a decoding error.
                    return Fail("dynamic table size update above SETTINGS_HEADER_TABLE_SIZE");
                }

                _table.SetMaxSize(maxSize);
                _sizeUpdateRequired = false;
                continue;
            }
            else
            {
                // | 0 | 0 | 0 | 0 |  Index (4+)   |      RFC 7541 6.2.2 Literal without Indexing
                // | 0 | 0 | 0 | 1 |  Index (4+)   |      RFC 7541 6.2.3 Literal Never Indexed
                neverIndexed = (first & 0x10) != 0;
                if (!TryReadLiteral(block, ref position, 4, indexing: false, out name, out value, ref tooLarge))
                {
                    return HPackDecodeStatus.CompressionError;
                }
            }

            if (_sizeUpdateRequired)
            {
                return Fail("missing dynamic table size update after a SETTINGS_HEADER_TABLE_SIZE decrease");
            }

            fieldSeen = true;

            // RFC 9113 6.5.2: the size of a header list is the sum of name + value + 32 over its fields.
            listSize += name.Length + value.Length + HPackDynamicTable.EntryOverhead;
            if (listSize > _maxHeaderListSize)
            {
                tooLarge = true;
            }

            if (!tooLarge)
            {
                handler.OnHeader(name, value, neverIndexed);
            }
        }

        return tooLarge ? HPackDecodeStatus.HeaderListTooLarge : HPackDecodeStatus.Success;
    }

    private bool TryReadLiteral(
        ReadOnlySpan<byte> block,
        scoped ref int position,
        int prefixBits,
        bool indexing,
        out ReadOnlySpan<byte> name,
        out ReadOnlySpan<byte> value,
        scoped ref bool tooLarge)
    {
        name = default;
        value = default;
        if (!TryReadInteger(block, ref position, prefixBits, out int index))
        {
            return false;
        }

        Span<byte> scratch = _scratch;
        int scratchUsed = 0;
        bool fits = true;
        if (index == 0)
        {
            StringStatus status = ReadString(block, ref position, scratch, out name, out scratchUsed);
            if (status == StringStatus.Invalid)
            {
                return false;
            }

            fits = status == StringStatus.Ok;
        }
        else
        {
            if (!TryGetIndexed(index, out name, out _))
            {
                return false;
            }

            if (indexing && index > HPackStaticTable.Count)
            {
                // RFC 7541 4.4: inserting may evict the very entry the name refers to, so copy it out first.
                name.CopyTo(scratch);
                scratchUsed = name.Length;
                name = scratch[..scratchUsed];
            }
        }

        StringStatus valueStatus = ReadString(block, ref position, fits ? scratch[scratchUsed..] : scratch, out value, out _);
        if (valueStatus == StringStatus.Invalid)
        {
            return false;
        }

        if (fits && valueStatus == StringStatus.Ok)
        {
            if (indexing)
            {
                _table.Insert(name, value);
            }

            return true;
        }

        // A Huffman string longer than the scratch buffer is longer than both the header list limit and the table,
        // so the field fails the stream and, if indexed, empties the table exactly as inserting it would (4.4).
        if (indexing)
        {
            _table.Clear();
        }

        tooLarge = true;
        name = default;
        value = default;
        return true;
    }

    //   0   1   2   3   4   5   6   7
    // +---+---+---+---+---+---+---+---+
    // | H |    String Length (7+)     |       RFC 7541 5.2
    // +---+---------------------------+
    // |  String Data (Length octets)  |
    // +-------------------------------+
    private StringStatus ReadString(
        ReadOnlySpan<byte> block,
        scoped ref int position,
        Span<byte> scratch,
        out ReadOnlySpan<byte> result,
        out int scratchUsed)
    {
        result = default;
        scratchUsed = 0;
        if ((uint)position >= (uint)block.Length)
        {
            Fail("block ends before a string literal");
            return StringStatus.Invalid;
        }

        bool huffman = (block[position] & 0x80) != 0;
        if (!TryReadInteger(block, ref position, 7, out int length))
        {
            return StringStatus.Invalid;
        }

        if (length > block.Length - position)
        {
            Fail("string literal longer than the block");
            return StringStatus.Invalid;
        }

        ReadOnlySpan<byte> data = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            result = data;
            return StringStatus.Ok;
        }

        OperationStatus status = HPackHuffman.Decode(data, scratch, out int written);
        if (status == OperationStatus.Done)
        {
            result = scratch[..written];
            scratchUsed = written;
            return StringStatus.Ok;
        }

        if (status == OperationStatus.DestinationTooSmall)
        {
            return StringStatus.TooLarge;
        }

        Fail("invalid Huffman string (EOS, or bad padding)");
        return StringStatus.Invalid;
    }

    private bool TryReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits, out int value)
    {
        OperationStatus status = HPackInteger.Decode(block[position..], prefixBits, out value, out int consumed);
        if (status != OperationStatus.Done)
        {
            Fail(status == OperationStatus.NeedMoreData ? "block ends inside an integer" : "integer overflow");
            return false;
        }

        position += consumed;
        return true;
    }

    private bool TryGetIndexed(int index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        // RFC 7541 2.3.3: 1..61 static, 62.. dynamic (62 = newest); 0 and past the end are decoding errors.
        if ((uint)(index - 1) < HPackStaticTable.Count)
        {
            ref readonly HPackHeaderField field = ref HPackStaticTable.Get(index);
            name = field.Name;
            value = field.Value;
            return true;
        }

        int dynamicIndex = index - HPackStaticTable.Count - 1;
        if (index != 0 && (uint)dynamicIndex < (uint)_table.Count)
        {
            name = _table.GetName(dynamicIndex);
            value = _table.GetValue(dynamicIndex);
            return true;
        }

        name = default;
        value = default;
        Fail("index out of range");
        return false;
    }

    private HPackDecodeStatus Fail(string reason)
    {
        LastError = reason;
        return HPackDecodeStatus.CompressionError;
    }

    private enum StringStatus
    {
        Ok,
        Invalid,
        TooLarge,
    }
}
