namespace Proxy.LoadTests.Client;

/// <summary>
/// Walks a chunked body without keeping it (the load client only needs to know where it ends).
/// A resumable state machine because the body arrives in pieces.
/// </summary>
public struct ChunkedBodySkipper
{
    // RFC 9112 section 7.1:
    //   chunked-body = *chunk last-chunk trailer-section CRLF
    //   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    //   last-chunk   = 1*("0") [ chunk-ext ] CRLF
    private enum State { Size, Extension, SizeLf, Data, DataCr, DataLf, TrailerLineStart, TrailerLine, TrailerLf, FinalLf, Done }

    private State _state;
    private long _size;
    private int _digits;

    /// <summary>Consumes as much of <paramref name="input"/> as belongs to the body.</summary>
    public ParseStatus Consume(ReadOnlySpan<byte> input, out int consumed)
    {
        int i = 0;
        while (i < input.Length)
        {
            byte b = input[i];
            switch (_state)
            {
                case State.Size:
                    int hex = HexValue(b);
                    if (hex >= 0)
                    {
                        if (++_digits > 15)
                        {
                            consumed = i;
                            return ParseStatus.Invalid;
                        }

                        _size = (_size << 4) | (uint)hex;
                        i++;
                    }
                    else if (_digits > 0 && (b == (byte)';' || b == (byte)' ' || b == (byte)'\t'))
                    {
                        _state = State.Extension;
                        i++;
                    }
                    else if (_digits > 0 && b == (byte)'\r')
                    {
                        _state = State.SizeLf;
                        i++;
                    }
                    else
                    {
                        consumed = i;
                        return ParseStatus.Invalid;
                    }

                    break;
                case State.Extension:
                    if (b == (byte)'\r')
                    {
                        _state = State.SizeLf;
                    }

                    i++;
                    break;
                case State.SizeLf:
                case State.DataLf:
                case State.TrailerLf:
                case State.FinalLf:
                    if (b != (byte)'\n')
                    {
                        consumed = i;
                        return ParseStatus.Invalid;
                    }

                    i++;
                    _state = _state switch
                    {
                        State.SizeLf => _size == 0 ? State.TrailerLineStart : State.Data,
                        State.DataLf => State.Size,
                        State.TrailerLf => State.TrailerLineStart,
                        _ => State.Done,
                    };
                    if (_state == State.Size)
                    {
                        _size = 0;
                        _digits = 0;
                    }
                    else if (_state == State.Done)
                    {
                        consumed = i;
                        return ParseStatus.Done;
                    }

                    break;
                case State.Data:
                    int take = (int)Math.Min(_size, input.Length - i);
                    i += take;
                    _size -= take;
                    if (_size == 0)
                    {
                        _state = State.DataCr;
                    }

                    break;
                case State.DataCr:
                    if (b != (byte)'\r')
                    {
                        consumed = i;
                        return ParseStatus.Invalid;
                    }

                    _state = State.DataLf;
                    i++;
                    break;
                case State.TrailerLineStart:
                    _state = b == (byte)'\r' ? State.FinalLf : State.TrailerLine;
                    i++;
                    break;
                case State.TrailerLine:
                    if (b == (byte)'\r')
                    {
                        _state = State.TrailerLf;
                    }

                    i++;
                    break;
                default:
                    consumed = i;
                    return ParseStatus.Done;
            }
        }

        consumed = i;
        return ParseStatus.NeedMore;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
