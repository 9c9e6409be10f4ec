using System.Buffers;

namespace Proxy.Http.Http2.HPack;

/// <summary>
/// The static Huffman code of RFC 7541 section 5.2 and Appendix B: encoding, encoded-length calculation and a
/// table-driven decoder that rejects the EOS symbol and padding that is longer than 7 bits or not all ones.
/// </summary>
public static class HPackHuffman
{
    private const int EosSymbol = 256;

    // Appendix B code lengths in bits, by symbol (0..255, then EOS). The code is canonical: within one length the
    // codes are consecutive in symbol order, and each length starts at (last code of the previous length + 1)
    // shifted left by the length difference. So the lengths alone define every code; BuildCodes derives them and
    // the tests pin a sample of them against Appendix B.
    private static ReadOnlySpan<byte> CodeLengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    // Codes right-aligned (the last bit of the code is bit 0), indexed by symbol.
    private static readonly uint[] s_codes = BuildCodes();

    // Decoder state machine, consumed 4 bits at a time. A state is an internal node of the code tree (256 of
    // them, root = 0). Entry [state * 16 + nibble]: bits 0..7 next state, bits 8..15 emitted symbol, then flags.
    // As no code is shorter than 5 bits, a nibble completes at most one symbol.
    private const uint EmitFlag = 1u << 16;
    private const uint FailFlag = 1u << 17;
    private const uint AcceptFlag = 1u << 18;
    private static readonly uint[] s_decodeTable = BuildDecodeTable();

    /// <summary>Number of bytes <paramref name="source"/> takes once Huffman encoded (padding included).</summary>
    public static int GetEncodedLength(ReadOnlySpan<byte> source)
    {
        ReadOnlySpan<byte> lengths = CodeLengths;
        long bits = 0;
        foreach (byte b in source)
        {
            bits += lengths[b];
        }

        return (int)((bits + 7) >> 3);
    }

    /// <summary>
    /// Encodes <paramref name="source"/> into <paramref name="destination"/>, padding the last byte with the most
    /// significant bits of EOS (all ones). Returns false when the destination is smaller than
    /// <see cref="GetEncodedLength"/>.
    /// </summary>
    public static bool TryEncode(ReadOnlySpan<byte> source, Span<byte> destination, out int bytesWritten)
    {
        ReadOnlySpan<byte> lengths = CodeLengths;
        uint[] codes = s_codes;
        ulong accumulator = 0;
        int pendingBits = 0;
        int written = 0;
        bytesWritten = 0;
        foreach (byte symbol in source)
        {
            int length = lengths[symbol];
            accumulator = (accumulator << length) | codes[symbol];
            pendingBits += length;
            while (pendingBits >= 8)
            {
                pendingBits -= 8;
                if ((uint)written >= (uint)destination.Length)
                {
                    return false;
                }

                destination[written++] = (byte)(accumulator >> pendingBits);
            }
        }

        if (pendingBits > 0)
        {
            if ((uint)written >= (uint)destination.Length)
            {
                return false;
            }

            // Pad with ones: the high bits of EOS (RFC 7541 5.2).
            destination[written++] = (byte)((accumulator << (8 - pendingBits)) | (0xFFu >> pendingBits));
        }

        bytesWritten = written;
        return true;
    }

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/>. Returns
    /// <see cref="OperationStatus.InvalidData"/> for EOS in the input, padding longer than 7 bits or padding that
    /// is not all ones (RFC 7541 5.2, a decoding error), and <see cref="OperationStatus.DestinationTooSmall"/> when
    /// the decoded string does not fit.
    /// </summary>
    public static OperationStatus Decode(ReadOnlySpan<byte> source, Span<byte> destination, out int bytesWritten)
    {
        uint[] table = s_decodeTable;
        uint state = 0;
        uint entry = AcceptFlag;
        int written = 0;
        bytesWritten = 0;
        foreach (byte b in source)
        {
            entry = table[(int)((state << 4) | (uint)(b >> 4))];
            if ((entry & (EmitFlag | FailFlag)) != 0)
            {
                if ((entry & FailFlag) != 0)
                {
                    return OperationStatus.InvalidData;
                }

                if ((uint)written >= (uint)destination.Length)
                {
                    return OperationStatus.DestinationTooSmall;
                }

                destination[written++] = (byte)(entry >> 8);
            }

            state = entry & 0xFF;
            entry = table[(int)((state << 4) | (uint)(b & 0x0F))];
            if ((entry & (EmitFlag | FailFlag)) != 0)
            {
                if ((entry & FailFlag) != 0)
                {
                    return OperationStatus.InvalidData;
                }

                if ((uint)written >= (uint)destination.Length)
                {
                    return OperationStatus.DestinationTooSmall;
                }

                destination[written++] = (byte)(entry >> 8);
            }

            state = entry & 0xFF;
        }

        // The input may only stop at a symbol boundary or inside a run of at most 7 one bits (EOS prefix).
        if ((entry & AcceptFlag) == 0)
        {
            return OperationStatus.InvalidData;
        }

        bytesWritten = written;
        return OperationStatus.Done;
    }

    private static uint[] BuildCodes()
    {
        ReadOnlySpan<byte> lengths = CodeLengths;
        var codes = new uint[EosSymbol + 1];

        // Canonical assignment: walk lengths in increasing order, symbols in increasing order within a length.
        uint code = 0;
        int previousLength = 0;
        bool first = true;
        for (int length = 1; length <= 30; length++)
        {
            for (int symbol = 0; symbol <= EosSymbol; symbol++)
            {
                if (lengths[symbol] != length)
                {
                    continue;
                }

                if (first)
                {
                    code = 0;
                    first = false;
                }
                else
                {
                    code = (code + 1) << (length - previousLength);
                }

                previousLength = length;
                codes[symbol] = code;
            }
        }

        return codes;
    }

    private static uint[] BuildDecodeTable()
    {
        ReadOnlySpan<byte> lengths = CodeLengths;

        // Build the binary tree: children[node * 2 + bit] >= 0 is an internal node, < 0 is leaf ~symbol.
        var children = new int[256 * 2];
        Array.Fill(children, int.MinValue);
        int nodeCount = 1;
        for (int symbol = 0; symbol <= EosSymbol; symbol++)
        {
            int length = lengths[symbol];
            uint code = s_codes[symbol];
            int node = 0;
            for (int bit = length - 1; bit > 0; bit--)
            {
                int slot = node * 2 + (int)((code >> bit) & 1);
                if (children[slot] == int.MinValue)
                {
                    children[slot] = nodeCount++;
                }

                node = children[slot];
            }

            children[node * 2 + (int)(code & 1)] = ~symbol;
        }

        // Accepting states: reached from the root through 0..7 one bits only (a legal EOS-prefix padding).
        var accepting = new bool[256];
        int onesNode = 0;
        accepting[0] = true;
        for (int depth = 1; depth <= 7; depth++)
        {
            onesNode = children[onesNode * 2 + 1];
            accepting[onesNode] = true;
        }

        var table = new uint[256 * 16];
        for (int state = 0; state < nodeCount; state++)
        {
            for (int nibble = 0; nibble < 16; nibble++)
            {
                int node = state;
                uint entry = 0;
                for (int bit = 3; bit >= 0; bit--)
                {
                    int child = children[node * 2 + ((nibble >> bit) & 1)];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }

                    int symbol = ~child;
                    if (symbol == EosSymbol)
                    {
                        // RFC 7541 5.2: a string literal containing EOS is a decoding error.
                        entry = FailFlag;
                        break;
                    }

                    entry = EmitFlag | ((uint)symbol << 8);
                    node = 0;
                }

                if ((entry & FailFlag) == 0)
                {
                    entry |= (uint)node;
                    if (accepting[node])
                    {
                        entry |= AcceptFlag;
                    }
                }

                table[state * 16 + nibble] = entry;
            }
        }

        return table;
    }
}
