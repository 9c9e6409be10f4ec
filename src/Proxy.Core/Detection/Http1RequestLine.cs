using System.Buffers;

namespace Proxy.Detection;

/// <summary>
/// Recognises an HTTP/1.x request line (RFC 9112, 3): <c>method SP request-target SP HTTP-version CRLF</c>,
/// with a token method, a visible-character target and <c>HTTP/1.0</c> or <c>HTTP/1.1</c>.
/// </summary>
internal static class Http1RequestLine
{
    private static ReadOnlySpan<byte> Version => "HTTP/1."u8;

    public static DetectionResult Classify(ReadOnlySequence<byte> input)
    {
        var reader = new SequenceReader<byte>(input);
        var state = 0; // 0 method, 1 target, 2 version
        var methodLength = 0;
        var targetLength = 0;
        var versionIndex = 0;
        while (reader.TryRead(out var b))
        {
            if (reader.Consumed > ProtocolDetector.MaxRequestLine)
            {
                return DetectionResult.Opaque(OpaqueReason.Unrecognised);
            }

            switch (state)
            {
                case 0:
                    if (b == (byte)' ' && methodLength > 0)
                    {
                        state = 1;
                    }
                    else if (!IsTokenChar(b) || ++methodLength > 32)
                    {
                        return DetectionResult.Opaque(OpaqueReason.Unrecognised);
                    }

                    break;
                case 1:
                    if (b == (byte)' ' && targetLength > 0)
                    {
                        state = 2;
                    }
                    else if (b <= 0x20 || b >= 0x7F)
                    {
                        return DetectionResult.Opaque(OpaqueReason.Unrecognised);
                    }
                    else
                    {
                        targetLength++;
                    }

                    break;
                default:
                    // "HTTP/1." then one digit then CR LF.
                    var ok = versionIndex switch
                    {
                        < 7 => b == Version[versionIndex],
                        7 => b is (byte)'0' or (byte)'1',
                        8 => b == (byte)'\r',
                        _ => b == (byte)'\n',
                    };
                    if (!ok)
                    {
                        return DetectionResult.Opaque(OpaqueReason.Unrecognised);
                    }

                    if (++versionIndex == 10)
                    {
                        return DetectionResult.Http1;
                    }

                    break;
            }
        }

        return DetectionResult.NeedMore;
    }

    /// <summary>tchar (RFC 9110, 5.6.2).</summary>
    private static bool IsTokenChar(byte b) =>
        b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+'
            or (byte)'-' or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|' or (byte)'~';
}
