namespace Proxy.Http.Http2.HPack;

/// <summary>
/// The HPACK dynamic table (RFC 7541 2.3.2 and 4): a FIFO of header fields, newest first, bounded by a maximum
/// size measured as the sum of (name length + value length + 32) over its entries. Field bytes live in one ring
/// buffer, so inserts and evictions allocate nothing.
/// </summary>
/// <remarks>
/// Each entry's name and value are stored contiguously. When an entry does not fit between the write position and
/// the end of the buffer it is written at offset 0, leaving a gap at the end. The buffer is twice the maximum size,
/// which is enough for that gap never to make a fitting entry collide with live data: live bytes plus the new
/// entry stay below the maximum size, and the gap is shorter than one entry.
/// </remarks>
public sealed class HPackDynamicTable
{
    /// <summary>The per-entry overhead of RFC 7541 4.1.</summary>
    public const int EntryOverhead = 32;

    private byte[] _buffer;
    private Entry[] _entries;
    private int _oldest;      // slot in _entries of the oldest entry
    private int _count;
    private int _writeOffset; // where the next entry's bytes go in _buffer
    private int _size;
    private int _maxSize;
    private int _capacity;

    /// <summary>Creates a table whose maximum size starts at, and can grow without reallocation up to, <paramref name="capacity"/>.</summary>
    public HPackDynamicTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _maxSize = capacity;
        _buffer = new byte[capacity * 2];
        _entries = new Entry[capacity / EntryOverhead + 1];
    }

    /// <summary>Number of entries.</summary>
    public int Count => _count;

    /// <summary>Current size in the RFC 7541 4.1 sense.</summary>
    public int Size => _size;

    /// <summary>Current maximum size (set by dynamic table size updates).</summary>
    public int MaxSize => _maxSize;

    /// <summary>Name of the entry at <paramref name="index"/>, 0 being the newest (HPACK index 62).</summary>
    public ReadOnlySpan<byte> GetName(int index)
    {
        ref readonly Entry entry = ref GetEntry(index);
        return _buffer.AsSpan(entry.Offset, entry.NameLength);
    }

    /// <summary>Value of the entry at <paramref name="index"/>, 0 being the newest (HPACK index 62).</summary>
    public ReadOnlySpan<byte> GetValue(int index)
    {
        ref readonly Entry entry = ref GetEntry(index);
        return _buffer.AsSpan(entry.Offset + entry.NameLength, entry.ValueLength);
    }

    /// <summary>
    /// Changes the maximum size, evicting the oldest entries until the table fits (RFC 7541 4.3). Growing past the
    /// construction capacity reallocates, which only happens on a settings change.
    /// </summary>
    public void SetMaxSize(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        if (maxSize > _capacity)
        {
            Grow(maxSize);
        }

        _maxSize = maxSize;
        while (_size > _maxSize)
        {
            EvictOldest();
        }
    }

    /// <summary>
    /// Adds a field as the newest entry, evicting old entries first (RFC 7541 4.4). A field larger than the
    /// maximum size empties the table and is not added, which is not an error.
    /// </summary>
    public void Insert(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int entrySize = name.Length + value.Length + EntryOverhead;
        if (entrySize > _maxSize)
        {
            Clear();
            return;
        }

        while (_size + entrySize > _maxSize)
        {
            EvictOldest();
        }

        int length = name.Length + value.Length;
        int offset = _writeOffset;
        if (offset + length > _buffer.Length)
        {
            offset = 0;
        }

        name.CopyTo(_buffer.AsSpan(offset));
        value.CopyTo(_buffer.AsSpan(offset + name.Length));
        _writeOffset = offset + length;

        int slot = _oldest + _count;
        if (slot >= _entries.Length)
        {
            slot -= _entries.Length;
        }

        _entries[slot] = new Entry(offset, name.Length, value.Length, Key(name), Key(value));
        _count++;
        _size += entrySize;
    }

    /// <summary>
    /// Finds a field for the encoder. Returns the index (0 = newest) of an entry with the same name and value
    /// (<paramref name="valueMatched"/> true), else of the newest entry with the same name, else -1.
    /// </summary>
    public int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out bool valueMatched)
    {
        valueMatched = false;
        int nameMatch = -1;
        Entry[] entries = _entries;
        byte[] buffer = _buffer;
        int nameKey = Key(name);
        int valueKey = Key(value);
        for (int i = 0; i < _count; i++)
        {
            int slot = _oldest + _count - 1 - i;
            if (slot >= entries.Length)
            {
                slot -= entries.Length;
            }

            // The keys (length and two bytes) rule out nearly every other entry without comparing bytes.
            ref readonly Entry entry = ref entries[slot];
            if (entry.NameKey != nameKey ||
                !name.SequenceEqual(buffer.AsSpan(entry.Offset, entry.NameLength)))
            {
                continue;
            }

            if (entry.ValueKey == valueKey &&
                value.SequenceEqual(buffer.AsSpan(entry.Offset + entry.NameLength, entry.ValueLength)))
            {
                valueMatched = true;
                return i;
            }

            if (nameMatch < 0)
            {
                nameMatch = i;
            }
        }

        return nameMatch;
    }

    /// <summary>A cheap fingerprint of a string: its length and its first and last bytes.</summary>
    private static int Key(ReadOnlySpan<byte> text) =>
        text.IsEmpty ? 0 : (text.Length << 16) ^ (text[0] << 8) ^ text[^1];

    /// <summary>Removes every entry.</summary>
    public void Clear()
    {
        _oldest = 0;
        _count = 0;
        _size = 0;
        _writeOffset = 0;
    }

    private ref readonly Entry GetEntry(int index)
    {
        if ((uint)index >= (uint)_count)
        {
            ThrowIndexOutOfRange();
        }

        int slot = _oldest + _count - 1 - index;
        if (slot >= _entries.Length)
        {
            slot -= _entries.Length;
        }

        return ref _entries[slot];
    }

    private void EvictOldest()
    {
        ref readonly Entry entry = ref _entries[_oldest];
        _size -= entry.NameLength + entry.ValueLength + EntryOverhead;
        _count--;
        _oldest++;
        if (_oldest == _entries.Length)
        {
            _oldest = 0;
        }

        if (_count == 0)
        {
            Clear();
        }
    }

    private void Grow(int capacity)
    {
        var buffer = new byte[capacity * 2];
        var entries = new Entry[capacity / EntryOverhead + 1];
        int offset = 0;

        // Copy oldest first, compacted at the start of the new buffer.
        for (int i = _count - 1; i >= 0; i--)
        {
            ref readonly Entry entry = ref GetEntry(i);
            int length = entry.NameLength + entry.ValueLength;
            _buffer.AsSpan(entry.Offset, length).CopyTo(buffer.AsSpan(offset));
            entries[_count - 1 - i] = new Entry(offset, entry.NameLength, entry.ValueLength, entry.NameKey, entry.ValueKey);
            offset += length;
        }

        _buffer = buffer;
        _entries = entries;
        _oldest = 0;
        _writeOffset = offset;
        _capacity = capacity;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowIndexOutOfRange() => throw new ArgumentOutOfRangeException("index");

    private readonly struct Entry(int offset, int nameLength, int valueLength, int nameKey, int valueKey)
    {
        public readonly int Offset = offset;
        public readonly int NameLength = nameLength;
        public readonly int ValueLength = valueLength;
        public readonly int NameKey = nameKey;
        public readonly int ValueKey = valueKey;
    }
}
