using System.Buffers;

namespace Proxy.Http.Http2;

/// <summary>
/// Accumulates the fragments of one field block (HEADERS or PUSH_PROMISE plus CONTINUATIONs, RFC 9113 4.3) so the
/// HPACK decoder sees it whole. Bounded: a block past the limit is refused, which the connection turns into a
/// connection error (the block cannot be skipped without desynchronising HPACK). One per connection, reused.
/// </summary>
public sealed class Http2HeaderBlockBuffer
{
    private readonly int _maxLength;
    private byte[] _buffer;
    private int _length;

    /// <summary>Creates a buffer that grows on demand up to <paramref name="maxLength"/> bytes.</summary>
    public Http2HeaderBlockBuffer(int maxLength, int initialCapacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        _maxLength = maxLength;
        _buffer = new byte[Math.Min(initialCapacity, maxLength)];
    }

    /// <summary>The bytes accumulated since the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Block => _buffer.AsSpan(0, _length);

    /// <summary>Number of bytes accumulated.</summary>
    public int Length => _length;

    /// <summary>Appends a fragment. Returns false, appending nothing, when the block would exceed the limit.</summary>
    public bool TryAppend(in ReadOnlySequence<byte> fragment)
    {
        if (fragment.Length > _maxLength - _length)
        {
            return false;
        }

        int needed = _length + (int)fragment.Length;
        if (needed > _buffer.Length)
        {
            // Growth happens only while a connection meets its largest block so far; steady state reuses the array.
            var grown = new byte[Math.Min(Math.Max(needed, _buffer.Length * 2), _maxLength)];
            _buffer.AsSpan(0, _length).CopyTo(grown);
            _buffer = grown;
        }

        fragment.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
        return true;
    }

    /// <summary>Empties the buffer for the next block.</summary>
    public void Reset() => _length = 0;
}
