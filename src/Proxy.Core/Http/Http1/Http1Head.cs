using System.Buffers;
using System.Text;
using Microsoft.Extensions.ObjectPool;

namespace Proxy.Http.Http1;

/// <summary>
/// What request and response heads share: the head's bytes copied into a reused buffer, the
/// located field lines, and the framing derived from them. Poolable: <see cref="Reset"/> keeps the
/// buffers, so a keep-alive connection parses every message without allocating.
/// </summary>
/// <remarks>
/// Parsing follows Kestrel's contract: a false return with no error means "need more bytes" and
/// nothing was consumed. Between such a call and the next one the caller must present the same
/// unconsumed bytes again, plus whatever arrived (as a PipeReader does after AdvanceTo(consumed,
/// examined)); the head remembers how far it already scanned, so a head trickled in byte by byte
/// costs linear, not quadratic, time. <see cref="Reset"/> forgets that progress.
/// </remarks>
public abstract partial class Http1Head : IResettable, IDisposable, Headers.IFieldLookup
{
    private const int InitialBufferSize = 2048;
    private const int InitialFieldCapacity = 32;

    private byte[] _buffer;
    private int _length;
    private Http1HeaderField[] _fields;
    private Http1HeaderField[]? _rentedFields; // the array rented from the pool, when _fields is still it
    private int _fieldCount;
    private int _startLineStart;
    private int _fieldsStart;

    private protected Http1Head(Http1Limits? limits)
    {
        Limits = limits ?? Http1Limits.Default;
        _buffer = []; // rented by the first parse (GrowBuffer), so a head that waits holds no buffer
        _fields = []; // rented by the first parse too
        ClearMessage();
    }

    /// <summary>The limits this head enforces.</summary>
    public Http1Limits Limits { get; }

    /// <summary>The whole head as received (start line, field lines, final CRLF); all offsets point here.</summary>
    public ReadOnlySpan<byte> HeadBytes => _buffer.AsSpan(0, _length);

    /// <summary>Bytes consumed from the input by the last successful parse.</summary>
    public int HeadLength => _length;

    /// <summary>The field lines in the order received.</summary>
    public ReadOnlySpan<Http1HeaderField> Fields => _fields.AsSpan(0, _fieldCount);

    /// <summary>The protocol version of the message.</summary>
    public Http1Version Version { get; private protected set; }

    /// <summary>The Content-Length value, or -1 when absent.</summary>
    public long ContentLength { get; private set; }

    /// <summary>True when Transfer-Encoding is present (for responses it may end in a coding other than chunked).</summary>
    public bool HasTransferEncoding { get; private set; }

    /// <summary>True when the final transfer coding is chunked.</summary>
    public bool IsChunked { get; private set; }

    /// <summary>Connection carries the "close" option.</summary>
    public bool ConnectionClose { get; private set; }

    /// <summary>Connection carries the "keep-alive" option (meaningful for HTTP/1.0).</summary>
    public bool ConnectionKeepAlive { get; private set; }

    /// <summary>Connection carries the "upgrade" option.</summary>
    public bool ConnectionUpgrade { get; private set; }

    /// <summary>An Upgrade field is present.</summary>
    public bool HasUpgrade { get; private set; }

    /// <summary>An Upgrade field offers "h2c", the HTTP/1.1-to-HTTP/2 upgrade RFC 9113 3.1 deprecates.</summary>
    public bool UpgradeOffersH2c { get; private set; }

    /// <summary>
    /// Whether the sender wants the connection kept open after this message (RFC 9112 9.3):
    /// HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive" and without "close".
    /// </summary>
    public bool KeepAlive => Version == Http1Version.Http11 ? !ConnectionClose : ConnectionKeepAlive && !ConnectionClose;

    /// <summary>Offset of the first field line; the start line is <c>HeadBytes[StartLineStart..FieldsStart]</c>.</summary>
    public int FieldsStart => _fieldsStart;

    /// <summary>Offset of the start line (after any empty lines the client sent before it).</summary>
    public int StartLineStart => _startLineStart;

    /// <summary>The name bytes of field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetName(int index)
    {
        ref readonly Http1HeaderField f = ref Fields[index];
        return _buffer.AsSpan(f.NameStart, f.NameLength);
    }

    /// <summary>The value bytes (without surrounding whitespace) of field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetValue(int index)
    {
        ref readonly Http1HeaderField f = ref Fields[index];
        return _buffer.AsSpan(f.ValueStart, f.ValueLength);
    }

    /// <summary>The original bytes of field line <paramref name="index"/>, from its name through its CRLF.</summary>
    public ReadOnlySpan<byte> GetLine(int index)
    {
        ref readonly Http1HeaderField f = ref Fields[index];
        return _buffer.AsSpan(f.NameStart, f.LineLength);
    }

    /// <summary>The value of the first field named <paramref name="name"/> (case-insensitive).</summary>
    public bool TryGetValue(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        int index = Http1FieldParser.IndexOf(HeadBytes, Fields, name);
        value = index < 0 ? default : GetValue(index);
        return index >= 0;
    }

    /// <summary>True when a field of this kind is present.</summary>
    /// <summary>True when the head has a field named <paramref name="lowerName"/> (any case).</summary>
    public bool Contains(ReadOnlySpan<byte> lowerName) => TryGetValue(lowerName, out _);

    public bool Contains(KnownHeader kind)
    {
        foreach (ref readonly Http1HeaderField f in Fields)
        {
            if (f.Kind == kind) return true;
        }

        return false;
    }

    /// <summary>Forgets the current message and any scan progress; keeps the buffers for reuse.</summary>
    public void Reset()
    {
        ResetScan();
        ClearMessage();
    }

    bool IResettable.TryReset()
    {
        Reset();
        return true;
    }

    /// <summary>Returns the head buffer and the field array to their pools. The head stays usable and rents again if parsed.</summary>
    public void Dispose()
    {
        Reset();
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);

        // A field array the parser grew past the rented one is not the pool's: it is dropped, not returned.
        if (_rentedFields is { } fields && ReferenceEquals(fields, _fields)) ArrayPool<Http1HeaderField>.Shared.Return(fields);
        _rentedFields = null;
        _fields = [];
    }

    /// <summary>Parses the start line <c>HeadBytes[start..end]</c> (without CRLF).</summary>
    private protected abstract Http1ParseError ParseStartLine(ReadOnlySpan<byte> line, int start);

    /// <summary>Message-kind rules applied after the common field checks.</summary>
    private protected abstract Http1ParseError Validate();

    /// <summary>Clears what the previous message set in the derived type.</summary>
    private protected abstract void ClearDerived();

    /// <summary>
    /// The shared parse: locate the end of the head, copy it, parse the start line and fields,
    /// derive framing, then apply the derived type's rules. Consumes input only on success.
    /// </summary>
    private protected bool TryParseCore(ref SequenceReader<byte> input, bool isRequest, out Http1ParseError error)
    {
        ClearMessage();
        error = Locate(ref input, isRequest, out int headLength);
        if (error != Http1ParseError.None)
        {
            ResetScan();
            return false;
        }

        if (headLength == 0) return false;

        int startLineStart = _prefixLength;
        int fieldsStart = _startLineEnd;
        ResetScan();

        if (_buffer.Length < headLength) GrowBuffer(headLength);
        ReadOnlySpan<byte> unread = input.UnreadSpan;
        if (unread.Length >= headLength)
        {
            unread[..headLength].CopyTo(_buffer);
        }
        else
        {
            input.UnreadSequence.Slice(0, headLength).CopyTo(_buffer);
        }

        _length = headLength;
        _startLineStart = startLineStart;
        _fieldsStart = fieldsStart;

        error = ParseStartLine(_buffer.AsSpan(startLineStart, fieldsStart - 2 - startLineStart), startLineStart);
        if (error == Http1ParseError.None)
        {
            if (_fields.Length == 0)
            {
                _fields = _rentedFields = ArrayPool<Http1HeaderField>.Shared.Rent(Math.Max(1, Math.Min(InitialFieldCapacity, Limits.MaxHeaderCount)));
            }

            error = Http1FieldParser.Parse(_buffer, fieldsStart, headLength - 2, ref _fields, ref _fieldCount, Limits.MaxHeaderCount);
        }

        if (error == Http1ParseError.None) error = ReadCommonFields();
        if (error == Http1ParseError.None) error = Validate();
        if (error != Http1ParseError.None) return false;

        input.Advance(headLength);
        return true;
    }

    /// <summary>
    /// HTTP-version = HTTP-name "/" DIGIT "." DIGIT (RFC 9112 2.3). A 1.x minor above 1 is handled
    /// as 1.1 (the highest we implement); another major version gets 505.
    /// </summary>
    private protected static Http1ParseError ParseVersion(ReadOnlySpan<byte> version, out Http1Version result)
    {
        result = Http1Version.Http11;
        if (version.Length != 8 || !version.StartsWith("HTTP/"u8) || version[6] != (byte)'.'
            || !char.IsAsciiDigit((char)version[5]) || !char.IsAsciiDigit((char)version[7]))
        {
            return Http1ParseError.InvalidVersion;
        }

        if (version[5] != (byte)'1') return Http1ParseError.UnsupportedVersion;
        result = version[7] == (byte)'0' ? Http1Version.Http10 : Http1Version.Http11;
        return Http1ParseError.None;
    }

    private void ClearMessage()
    {
        _length = 0;
        _fieldCount = 0;
        _startLineStart = 0;
        _fieldsStart = 0;
        Version = Http1Version.Http11;
        ContentLength = -1;
        HasTransferEncoding = false;
        IsChunked = false;
        ConnectionClose = false;
        ConnectionKeepAlive = false;
        ConnectionUpgrade = false;
        HasUpgrade = false;
        UpgradeOffersH2c = false;
        TransferCodingOther = false;
        ClearDerived();
    }

    /// <summary>True when Transfer-Encoding names a coding other than chunked (checked per message kind).</summary>
    private protected bool TransferCodingOther { get; private set; }

    /// <summary>
    /// Content-Length, Transfer-Encoding, Connection and Upgrade, which frame every HTTP/1.1
    /// message alike (RFC 9112 6, 9.6), then the fields named by Connection become hop-by-hop.
    /// </summary>
    private Http1ParseError ReadCommonFields()
    {
        bool connectionNamesFields = false;
        int chunkedCount = 0;
        int codingCount = 0;
        bool lastIsChunked = false;
        ReadOnlySpan<byte> buffer = HeadBytes;

        for (int i = 0; i < _fieldCount; i++)
        {
            ref readonly Http1HeaderField f = ref _fields[i];
            ReadOnlySpan<byte> value = buffer.Slice(f.ValueStart, f.ValueLength);
            switch (f.Kind)
            {
                case KnownHeader.ContentLength:
                    Http1ParseError clError = ParseContentLength(value, out long length);
                    if (clError != Http1ParseError.None) return clError;
                    if (ContentLength >= 0 && ContentLength != length) return Http1ParseError.ConflictingContentLength;
                    ContentLength = length;
                    break;

                case KnownHeader.TransferEncoding:
                    HasTransferEncoding = true;
                    var codings = new HttpListReader(value);
                    while (codings.TryNext(out ReadOnlySpan<byte> coding))
                    {
                        codingCount++;
                        lastIsChunked = Ascii.EqualsIgnoreCase(coding, "chunked"u8);
                        if (lastIsChunked) chunkedCount++;
                        else TransferCodingOther = true;
                    }

                    break;

                case KnownHeader.Connection:
                    var options = new HttpListReader(value);
                    while (options.TryNext(out ReadOnlySpan<byte> option))
                    {
                        if (Ascii.EqualsIgnoreCase(option, "close"u8)) ConnectionClose = true;
                        else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8)) ConnectionKeepAlive = true;
                        else if (Ascii.EqualsIgnoreCase(option, "upgrade"u8)) ConnectionUpgrade = true;
                        else connectionNamesFields = true;
                    }

                    break;

                case KnownHeader.Upgrade:
                    HasUpgrade = true;
                    var protocols = new HttpListReader(value);
                    while (protocols.TryNext(out ReadOnlySpan<byte> protocol))
                    {
                        if (Ascii.EqualsIgnoreCase(protocol, "h2c"u8)) UpgradeOffersH2c = true;
                    }

                    break;
            }
        }

        if (HasTransferEncoding)
        {
            // RFC 9112 6.3 rule 3: both length fields is a smuggling signature; reject, don't guess.
            if (ContentLength >= 0) return Http1ParseError.ContentLengthWithTransferEncoding;

            // RFC 9112 6.1/7: chunked at most once and only as the final coding.
            if (codingCount == 0 || chunkedCount > 1 || (chunkedCount == 1 && !lastIsChunked))
            {
                return Http1ParseError.InvalidTransferEncoding;
            }

            IsChunked = lastIsChunked;
        }

        if (connectionNamesFields) MarkConnectionNamedFields();
        return Http1ParseError.None;
    }

    /// <summary>RFC 9110 7.6.1: every field a Connection option names is hop-by-hop for this message.</summary>
    private void MarkConnectionNamedFields()
    {
        ReadOnlySpan<byte> buffer = HeadBytes;
        for (int c = 0; c < _fieldCount; c++)
        {
            if (_fields[c].Kind != KnownHeader.Connection) continue;
            var options = new HttpListReader(buffer.Slice(_fields[c].ValueStart, _fields[c].ValueLength));
            while (options.TryNext(out ReadOnlySpan<byte> option))
            {
                for (int i = 0; i < _fieldCount; i++)
                {
                    ref Http1HeaderField f = ref _fields[i];
                    if (!f.IsHopByHop && f.NameLength == option.Length && HopByHop.MayBeNamedByConnection(f.Kind)
                        && Ascii.EqualsIgnoreCase(buffer.Slice(f.NameStart, f.NameLength), option))
                    {
                        f = f.AsHopByHop();
                    }
                }
            }
        }
    }

    /// <summary>
    /// Content-Length = 1*DIGIT (RFC 9110 8.6). A list of identical values ("42, 42") is accepted as
    /// one value, as 8.6 allows; differing values, empty elements, signs and overflow are not.
    /// </summary>
    private static Http1ParseError ParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = -1;
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> element = HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]);
            if (element.IsEmpty) return Http1ParseError.InvalidContentLength;

            long n = 0;
            foreach (byte b in element)
            {
                uint digit = (uint)(b - '0');
                if (digit > 9 || n > (long.MaxValue - digit) / 10) return Http1ParseError.InvalidContentLength;
                n = (n * 10) + digit;
            }

            if (length >= 0 && length != n) return Http1ParseError.ConflictingContentLength;
            length = n;
            if (comma < 0) return Http1ParseError.None;
            value = value[(comma + 1)..];
        }
    }

    private void GrowBuffer(int needed)
    {
        byte[] old = _buffer;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(InitialBufferSize, old.Length * 2)));
        if (old.Length > 0) ArrayPool<byte>.Shared.Return(old);
    }
}
