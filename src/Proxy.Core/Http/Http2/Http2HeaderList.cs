using Proxy.Http.Http2.HPack;

namespace Proxy.Http.Http2;

/// <summary>
/// The fields of one HTTP/2 header block, copied into a reusable buffer: the pseudo-headers in their own slots and
/// the regular fields in order. Used for both directions: the read loop decodes a received block into one, and a
/// forwarder stages the block it will send in another. Reused per stream; grows only to the largest block seen.
/// </summary>
public sealed class Http2HeaderList : Headers.IFieldLookup
{
    // Small at first: lists live in pooled streams and grow once to the largest block their stream sees.
    private byte[] _buffer = new byte[256];
    private int _length;
    private Field[] _fields = new Field[8];
    private int _count;
    private Range _method;
    private Range _scheme;
    private Range _authority;
    private Range _path;
    private Range _status;
    private Range _protocol;
    private bool _invalid;
    private bool _regularSeen;
    private bool _unknownPseudo;
    private bool _duplicatePseudo;
    private long _size;

    /// <summary>Creates an empty list.</summary>
    public Http2HeaderList() => Reset();

    /// <summary>An empty list to read from (never add to it): what a stream without trailers shows.</summary>
    public static Http2HeaderList Empty { get; } = new();

    /// <summary>Number of regular (non-pseudo) fields.</summary>
    public int Count => _count;

    /// <summary>RFC 9113 6.5.2 size of the list: name + value + 32 per field, pseudo-headers included.</summary>
    public long Size => _size;

    /// <summary>:method, or empty.</summary>
    public ReadOnlySpan<byte> Method => Slice(_method);

    /// <summary>:scheme, or empty.</summary>
    public ReadOnlySpan<byte> Scheme => Slice(_scheme);

    /// <summary>:authority, or empty.</summary>
    public ReadOnlySpan<byte> Authority => Slice(_authority);

    /// <summary>:path, or empty.</summary>
    public ReadOnlySpan<byte> Path => Slice(_path);

    /// <summary>:status, or empty.</summary>
    public ReadOnlySpan<byte> StatusBytes => Slice(_status);

    /// <summary>True when :method was present.</summary>
    public bool HasMethod => _method.Length >= 0;

    /// <summary>:status as a number, or 0 when absent or not three digits.</summary>
    public int Status
    {
        get
        {
            ReadOnlySpan<byte> s = StatusBytes;
            if (s.Length != 3 || !IsDigit(s[0]) || !IsDigit(s[1]) || !IsDigit(s[2]))
            {
                return 0;
            }

            return ((s[0] - '0') * 100) + ((s[1] - '0') * 10) + (s[2] - '0');
        }
    }

    /// <summary>The name of regular field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetName(int index) => _buffer.AsSpan(_fields[index].NameStart, _fields[index].NameLength);

    /// <summary>The value of regular field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetValue(int index) => _buffer.AsSpan(_fields[index].ValueStart, _fields[index].ValueLength);

    /// <summary>Whether field <paramref name="index"/> arrived "never indexed" (RFC 7541 6.2.3), to keep when re-encoding.</summary>
    public bool IsNeverIndexed(int index) => _fields[index].NeverIndexed;

    /// <summary>Finds the first regular field named <paramref name="lowerName"/>.</summary>
    /// <summary>True when the list has a regular field named <paramref name="lowerName"/>.</summary>
    public bool Contains(ReadOnlySpan<byte> lowerName) => TryGetValue(lowerName, out _);

    public bool TryGetValue(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < _count; i++)
        {
            if (GetName(i).SequenceEqual(lowerName))
            {
                value = GetValue(i);
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Empties the list for the next block.</summary>
    public void Reset()
    {
        _length = 0;
        _count = 0;
        _method = _scheme = _authority = _path = _status = _protocol = Range.None;
        _invalid = _regularSeen = _unknownPseudo = _duplicatePseudo = false;
        _size = 0;
    }

    /// <summary>
    /// Adds a field as decoded or staged. Pseudo-headers go to their slots; the structural rules (order, duplicates,
    /// uppercase names, connection-specific fields) are recorded here and judged by <see cref="Validate"/>.
    /// </summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed = false)
    {
        _size += name.Length + value.Length + HPackDynamicTable.EntryOverhead;
        if (!name.IsEmpty && name[0] == (byte)':')
        {
            if (_regularSeen)
            {
                _invalid = true; // 8.3: pseudo-headers precede regular fields
            }

            ref Range slot = ref PseudoSlot(name);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref slot))
            {
                _unknownPseudo = true;
                return;
            }

            if (slot.Length >= 0)
            {
                _duplicatePseudo = true;
                return;
            }

            slot = Append(value);
            return;
        }

        _regularSeen = true;
        if (!IsValidName(name))
        {
            _invalid = true; // 8.2.1: lowercase, no separators or controls
        }

        if (_count == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        Range n = Append(name);
        Range v = Append(value);
        _fields[_count++] = new Field(n.Start, n.Length, v.Start, v.Length, neverIndexed);
    }

    /// <summary>
    /// Appends regular field <paramref name="index"/> of <paramref name="source"/>, a list that was already validated
    /// (decoded and checked, or staged by the proxy): the name checks of <see cref="Add"/> are not repeated.
    /// </summary>
    public void CopyField(Http2HeaderList source, int index)
    {
        ReadOnlySpan<byte> name = source.GetName(index);
        ReadOnlySpan<byte> value = source.GetValue(index);
        _size += name.Length + value.Length + HPackDynamicTable.EntryOverhead;
        _regularSeen = true;
        if (_count == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        Range n = Append(name);
        Range v = Append(value);
        _fields[_count++] = new Field(n.Start, n.Length, v.Start, v.Length, source.IsNeverIndexed(index));
    }

    /// <summary>Adds a regular field whose name may carry uppercase letters (from HTTP/1.1), lowercasing it (8.2.1).</summary>
    public void AddLowercase(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        _size += name.Length + value.Length + HPackDynamicTable.EntryOverhead;
        _regularSeen = true;
        if (_count == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        Range n = Append(name);
        System.Text.Ascii.ToLowerInPlace(_buffer.AsSpan(n.Start, n.Length), out _);
        Range v = Append(value);
        _fields[_count++] = new Field(n.Start, n.Length, v.Start, v.Length, false);
    }

    /// <summary>
    /// Appends <paramref name="more"/> to the value of the regular field added last, in the list's own buffer: a value
    /// joined from pieces (an X-Forwarded-For chain) needs no staging copy and has no bound but the list's.
    /// </summary>
    public void AppendToLastValue(ReadOnlySpan<byte> more)
    {
        if (_count == 0 || _fields[_count - 1].ValueStart + _fields[_count - 1].ValueLength != _length)
        {
            ThrowNotLastValue();
        }

        ref Field last = ref _fields[_count - 1];
        Append(more);
        last = last with { ValueLength = last.ValueLength + more.Length };
        _size += more.Length;
    }

    [System.Diagnostics.StackTraceHidden]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowNotLastValue() =>
        throw new InvalidOperationException("Only the value of the regular field added last can be appended to.");

    /// <summary>
    /// Where the list ends now, for <see cref="TruncateTo"/>: a forwarder appends its own fields to a received list,
    /// sends it as it is, then takes them off again (the list stays what the peer sent, for logs and retries).
    /// </summary>
    public Mark GetMark() => new(_count, _length, _size, _regularSeen);

    /// <summary>Removes the regular fields added since <paramref name="mark"/> (pseudo-headers must not have been added).</summary>
    public void TruncateTo(Mark mark)
    {
        _count = mark.Count;
        _length = mark.Length;
        _size = mark.Size;
        _regularSeen = mark.RegularSeen;
    }

    /// <summary>A length of the list to return to (see <see cref="GetMark"/>).</summary>
    public readonly record struct Mark(int Count, int Length, long Size, bool RegularSeen);

    /// <summary>Adds :status with a three-digit code.</summary>
    public void AddStatus(int status)
    {
        Span<byte> digits = stackalloc byte[3];
        digits[0] = (byte)('0' + (status / 100 % 10));
        digits[1] = (byte)('0' + (status / 10 % 10));
        digits[2] = (byte)('0' + (status % 10));
        Add(":status"u8, digits);
    }

    /// <summary>
    /// Checks the block against RFC 9113 8.2 and 8.3 for its kind. False means the message is malformed: a stream
    /// error of type PROTOCOL_ERROR (8.1.1).
    /// </summary>
    public bool Validate(Http2HeaderBlockKind kind)
    {
        if (_invalid || _unknownPseudo || _duplicatePseudo)
        {
            return false;
        }

        for (int i = 0; i < _count; i++)
        {
            ReadOnlySpan<byte> name = GetName(i);

            // 8.2.2: connection-specific fields are malformed; TE is allowed only as "trailers".
            KnownHeader known = KnownHeaders.Classify(name);
            if (known is KnownHeader.Connection or KnownHeader.KeepAlive or KnownHeader.ProxyConnection
                or KnownHeader.TransferEncoding or KnownHeader.Upgrade)
            {
                return false;
            }

            if (known == KnownHeader.TE && !GetValue(i).SequenceEqual("trailers"u8))
            {
                return false;
            }

            // 8.2.1: no CR, LF or NUL in values, no leading or trailing whitespace.
            ReadOnlySpan<byte> value = GetValue(i);
            if (!Http1.HttpCharacters.IsFieldValue(value) ||
                (!value.IsEmpty && (IsWhitespace(value[0]) || IsWhitespace(value[^1]))))
            {
                return false;
            }
        }

        switch (kind)
        {
            case Http2HeaderBlockKind.Request:
                if (_status.Length >= 0 || _method.Length <= 0)
                {
                    return false;
                }

                if (Method.SequenceEqual("CONNECT"u8) && _protocol.Length < 0)
                {
                    // 8.5: CONNECT carries only :method and :authority.
                    return _authority.Length > 0 && _scheme.Length < 0 && _path.Length < 0;
                }

                // 8.3.1: :scheme and a non-empty :path are required.
                return _scheme.Length > 0 && _path.Length > 0;
            case Http2HeaderBlockKind.Response:
                return _method.Length < 0 && _scheme.Length < 0 && _path.Length < 0 && _authority.Length < 0 &&
                    _protocol.Length < 0 && Status >= 100;
            default:
                return _method.Length < 0 && _scheme.Length < 0 && _path.Length < 0 && _authority.Length < 0 &&
                    _protocol.Length < 0 && _status.Length < 0;
        }
    }

    private ref Range PseudoSlot(ReadOnlySpan<byte> name)
    {
        if (name.SequenceEqual(":method"u8))
        {
            return ref _method;
        }

        if (name.SequenceEqual(":path"u8))
        {
            return ref _path;
        }

        if (name.SequenceEqual(":scheme"u8))
        {
            return ref _scheme;
        }

        if (name.SequenceEqual(":authority"u8))
        {
            return ref _authority;
        }

        if (name.SequenceEqual(":status"u8))
        {
            return ref _status;
        }

        if (name.SequenceEqual(":protocol"u8))
        {
            return ref _protocol;
        }

        return ref System.Runtime.CompilerServices.Unsafe.NullRef<Range>();
    }

    // tchar minus uppercase (RFC 9110 5.6.2, RFC 9113 8.2.1).
    private static bool IsValidName(ReadOnlySpan<byte> name) =>
        Http1.HttpCharacters.IsToken(name) && !name.ContainsAnyInRange((byte)'A', (byte)'Z');

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t';

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private ReadOnlySpan<byte> Slice(Range range) => range.Length < 0 ? default : _buffer.AsSpan(range.Start, range.Length);

    private Range Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + bytes.Length));
        }

        bytes.CopyTo(_buffer.AsSpan(_length));
        var range = new Range(_length, bytes.Length);
        _length += bytes.Length;
        return range;
    }

    private readonly record struct Range(int Start, int Length)
    {
        public static Range None => new(0, -1);
    }

    private readonly record struct Field(int NameStart, int NameLength, int ValueStart, int ValueLength, bool NeverIndexed);
}
