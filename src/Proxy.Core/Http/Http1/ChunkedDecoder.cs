using System.Buffers;
using Microsoft.Extensions.ObjectPool;

namespace Proxy.Http.Http1;

/// <summary>
/// Resumable decoder for the chunked transfer coding (RFC 9112 7.1). Input may arrive in any
/// pieces: framing bytes are consumed into the decoder's state as they come, and chunk data is
/// handed back as slices of the input without copying, so the forwarder can stream it (re-chunked
/// with <see cref="ChunkedEncoder"/>, or by forwarding the consumed raw range, which is validated).
/// </summary>
/// <remarks>
/// <code>
/// chunked-body   = *chunk last-chunk trailer-section CRLF
/// chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// chunk-size     = 1*HEXDIG
/// last-chunk     = 1*("0") [ chunk-ext ] CRLF
/// chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
/// chunk-ext-val  = token / quoted-string
/// trailer-section = *( field-line CRLF )
/// </code>
/// </remarks>
public sealed class ChunkedDecoder : IResettable, IDisposable
{
    private readonly Http1Limits _limits;
    private State _state;
    private long _size;
    private long _remaining;
    private int _lineLength;
    private byte[] _trailerBuffer = [];
    private int _trailerLength;
    private int _trailerLineStart;
    private Http1HeaderField[] _trailers = [];
    private int _trailerCount;

    /// <summary>Creates a decoder enforcing <paramref name="limits"/> (default: <see cref="Http1Limits.Default"/>).</summary>
    public ChunkedDecoder(Http1Limits? limits = null) => _limits = limits ?? Http1Limits.Default;

    private enum State : byte
    {
        SizeStart,
        Size,
        ExtBeforeSemicolon,
        ExtBeforeName,
        ExtName,
        ExtAfterName,
        ExtBeforeValue,
        ExtToken,
        ExtQuoted,
        ExtQuotedPair,
        SizeLf,
        Data,
        DataCr,
        DataLf,
        Trailer,
        Completed,
        Failed,
    }

    /// <summary>Why decoding failed, once <see cref="ChunkedDecodeStatus.Invalid"/> was returned.</summary>
    public Http1ParseError Error { get; private set; }

    /// <summary>True once the whole body including trailers has been consumed.</summary>
    public bool IsCompleted => _state == State.Completed;

    /// <summary>The trailer field lines as received, each with its CRLF, without the final empty line.</summary>
    public ReadOnlySpan<byte> TrailerBytes => IsCompleted && _trailerLength >= 2
        ? _trailerBuffer.AsSpan(0, _trailerLength - 2)
        : default;

    /// <summary>The trailer fields located in <see cref="TrailerBytes"/> (valid once completed).</summary>
    public ReadOnlySpan<Http1HeaderField> Trailers => _trailers.AsSpan(0, _trailerCount);

    /// <summary>The name of trailer field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetTrailerName(int index) => _trailerBuffer.AsSpan(Trailers[index].NameStart, Trailers[index].NameLength);

    /// <summary>The value of trailer field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetTrailerValue(int index) => _trailerBuffer.AsSpan(Trailers[index].ValueStart, Trailers[index].ValueLength);

    /// <summary>Prepares for the next body; keeps the trailer buffers.</summary>
    public void Reset()
    {
        _state = State.SizeStart;
        _size = 0;
        _remaining = 0;
        _lineLength = 0;
        _trailerLength = 0;
        _trailerLineStart = 0;
        _trailerCount = 0;
        Error = Http1ParseError.None;
    }

    bool IResettable.TryReset()
    {
        Reset();
        return true;
    }

    /// <summary>Returns the trailer buffer to the array pool.</summary>
    public void Dispose()
    {
        Reset();
        byte[] buffer = _trailerBuffer;
        _trailerBuffer = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>
    /// Consumes framing from <paramref name="input"/> until it can return a piece of chunk data,
    /// the body ends, the input runs out, or the input is invalid. <paramref name="data"/> is a
    /// slice of the input: use it before releasing the input buffer.
    /// </summary>
    public ChunkedDecodeStatus Decode(ref SequenceReader<byte> input, out ReadOnlySequence<byte> data)
    {
        data = default;
        while (true)
        {
            switch (_state)
            {
                case State.Completed:
                    return ChunkedDecodeStatus.Completed;

                case State.Failed:
                    return ChunkedDecodeStatus.Invalid;

                case State.Data:
                    if (input.End) return ChunkedDecodeStatus.NeedMoreData;
                    long take = Math.Min(_remaining, input.Remaining);
                    data = input.Sequence.Slice(input.Position, take);
                    input.Advance(take);
                    _remaining -= take;
                    if (_remaining == 0) _state = State.DataCr;
                    return ChunkedDecodeStatus.Data;

                case State.Trailer:
                    if (input.End) return ChunkedDecodeStatus.NeedMoreData;
                    ReadTrailer(ref input);
                    break;

                default:
                    if (input.End) return ChunkedDecodeStatus.NeedMoreData;
                    ReadOnlySpan<byte> span = input.UnreadSpan;
                    int i = 0;
                    while (i < span.Length && IsLineState(_state))
                    {
                        Step(span[i++]);
                    }

                    input.Advance(i);
                    break;
            }
        }
    }

    /// <summary>Advances the chunk-line state machine by one byte.</summary>
    private void Step(byte b)
    {
        if (_state < State.SizeLf && ++_lineLength > _limits.MaxChunkLineLength)
        {
            Fail(Http1ParseError.ChunkLineTooLong);
            return;
        }

        switch (_state)
        {
            case State.SizeStart:
                int first = HexValue(b);
                if (first < 0)
                {
                    Fail(b == (byte)'\n' ? Http1ParseError.BareLineFeed : Http1ParseError.InvalidChunkSize);
                    return;
                }

                _size = first;
                _state = State.Size;
                return;

            case State.Size:
                int digit = HexValue(b);
                if (digit >= 0)
                {
                    // Overflow check before the shift: the size must fit a non-negative long.
                    if (_size > (long.MaxValue >> 4))
                    {
                        Fail(Http1ParseError.ChunkSizeOverflow);
                        return;
                    }

                    _size = (_size << 4) | (uint)digit;
                    return;
                }

                SizeLineByte(b, State.ExtBeforeSemicolon, Http1ParseError.InvalidChunkSize);
                return;

            // BWS ";" - whitespace after the size or after a quoted value.
            case State.ExtBeforeSemicolon:
                SizeLineByte(b, State.ExtBeforeSemicolon, Http1ParseError.InvalidChunkExtension);
                return;

            case State.ExtBeforeName:
                if (HttpCharacters.IsWhitespace(b)) return;
                if (IsTokenByte(b)) _state = State.ExtName;
                else Fail(ExtensionError(b));
                return;

            case State.ExtName:
                if (IsTokenByte(b)) return;
                if (b == (byte)'=') _state = State.ExtBeforeValue;
                else SizeLineByte(b, State.ExtAfterName, Http1ParseError.InvalidChunkExtension);
                return;

            case State.ExtAfterName:
                if (b == (byte)'=') _state = State.ExtBeforeValue;
                else SizeLineByte(b, State.ExtAfterName, Http1ParseError.InvalidChunkExtension);
                return;

            case State.ExtBeforeValue:
                if (HttpCharacters.IsWhitespace(b)) return;
                if (b == (byte)'"') _state = State.ExtQuoted;
                else if (IsTokenByte(b)) _state = State.ExtToken;
                else Fail(ExtensionError(b));
                return;

            case State.ExtToken:
                if (IsTokenByte(b)) return;
                SizeLineByte(b, State.ExtBeforeSemicolon, Http1ParseError.InvalidChunkExtension);
                return;

            case State.ExtQuoted:
                if (b == (byte)'"') _state = State.ExtBeforeSemicolon;
                else if (b == (byte)'\\') _state = State.ExtQuotedPair;
                else if (!HttpCharacters.IsQuotedText(b)) Fail(ExtensionError(b));
                return;

            case State.ExtQuotedPair:
                if (HttpCharacters.IsQuotedPairChar(b)) _state = State.ExtQuoted;
                else Fail(ExtensionError(b));
                return;

            case State.SizeLf:
                if (b != (byte)'\n')
                {
                    Fail(Http1ParseError.InvalidChunkLineEnding);
                    return;
                }

                _lineLength = 0;
                if (_size == 0)
                {
                    _state = State.Trailer;
                }
                else
                {
                    _remaining = _size;
                    _state = State.Data;
                }

                return;

            case State.DataCr:
                if (b == (byte)'\r') _state = State.DataLf;
                else Fail(b == (byte)'\n' ? Http1ParseError.BareLineFeed : Http1ParseError.InvalidChunkLineEnding);
                return;

            case State.DataLf:
                if (b == (byte)'\n') _state = State.SizeStart;
                else Fail(Http1ParseError.InvalidChunkLineEnding);
                return;
        }
    }

    /// <summary>
    /// The bytes that may follow a size, a name or a value: whitespace (moving to
    /// <paramref name="whitespaceState"/>), ";" for the next extension, or CR ending the line.
    /// </summary>
    private void SizeLineByte(byte b, State whitespaceState, Http1ParseError otherwise)
    {
        if (HttpCharacters.IsWhitespace(b)) _state = whitespaceState;
        else if (b == (byte)';') _state = State.ExtBeforeName;
        else if (b == (byte)'\r') _state = State.SizeLf;
        else Fail(b == (byte)'\n' ? Http1ParseError.BareLineFeed : otherwise);
    }

    /// <summary>
    /// Collects the trailer section (RFC 9112 7.1.2) line by line into a bounded buffer, then
    /// validates it with the same rules as a header section.
    /// </summary>
    private void ReadTrailer(ref SequenceReader<byte> input)
    {
        ReadOnlySpan<byte> span = input.UnreadSpan;
        int lf = span.IndexOf((byte)'\n');
        int take = lf < 0 ? span.Length : lf + 1;
        if (_trailerLength + take > _limits.MaxTrailerBytes + 2)
        {
            Fail(Http1ParseError.TrailersTooLarge);
            return;
        }

        if (_trailerBuffer.Length < _trailerLength + take) GrowTrailerBuffer(_trailerLength + take);
        span[..take].CopyTo(_trailerBuffer.AsSpan(_trailerLength));
        _trailerLength += take;
        input.Advance(take);
        if (lf < 0) return;

        int lfPos = _trailerLength - 1;
        if (lfPos == 0 || _trailerBuffer[lfPos - 1] != (byte)'\r')
        {
            Fail(Http1ParseError.BareLineFeed);
            return;
        }

        if (lfPos - _trailerLineStart == 1)
        {
            // The empty line: lines before it are the trailer fields.
            if (_trailers.Length == 0) _trailers = new Http1HeaderField[4];
            Http1ParseError error = Http1FieldParser.Parse(
                _trailerBuffer, 0, _trailerLineStart, ref _trailers, ref _trailerCount, _limits.MaxHeaderCount);
            if (error != Http1ParseError.None) Fail(error);
            else _state = State.Completed;
            return;
        }

        _trailerLineStart = lfPos + 1;
    }

    private void GrowTrailerBuffer(int needed)
    {
        byte[] old = _trailerBuffer;
        _trailerBuffer = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(needed, 256), old.Length * 2));
        old.AsSpan(0, _trailerLength).CopyTo(_trailerBuffer);
        if (old.Length > 0) ArrayPool<byte>.Shared.Return(old);
    }

    private void Fail(Http1ParseError error)
    {
        Error = error;
        _state = State.Failed;
    }

    // States consumed byte by byte: the chunk-size line and the CRLF after chunk data.
    private static bool IsLineState(State state) => state < State.Data || state is State.DataCr or State.DataLf;

    private static Http1ParseError ExtensionError(byte b) => b == (byte)'\n' ? Http1ParseError.BareLineFeed : Http1ParseError.InvalidChunkExtension;

    private static bool IsTokenByte(byte b) => HttpCharacters.Token.Contains(b);

    private static int HexValue(byte b)
    {
        uint d = (uint)(b - '0');
        if (d <= 9) return (int)d;
        uint h = (uint)((b | 0x20) - 'a');
        return h <= 5 ? (int)h + 10 : -1;
    }
}
