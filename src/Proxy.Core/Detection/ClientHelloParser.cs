using System.Buffers;
using System.Text;

namespace Proxy.Detection;

/// <summary>
/// Reads the server name (RFC 6066, 3) and ALPN list (RFC 7301, 3.1) from a TLS ClientHello in its
/// first record, without decrypting anything. Incomplete input gives <see cref="DetectedProtocol.NeedMore"/>.
/// </summary>
public static class ClientHelloParser
{
    /// <summary>Largest TLS plaintext record (RFC 8446, 5.1): 2^14 bytes of payload.</summary>
    public const int MaxRecordLength = 16384;

    /// <summary>
    /// Classifies a buffer that starts with 0x16. Layout (RFC 8446, 5.1 and 4.1.2):
    /// <code>
    /// record:       type(1)=22 legacy_version(2) length(2) fragment
    /// handshake:    msg_type(1)=1 length(3) body
    /// ClientHello:  legacy_version(2) random(32) session_id&lt;0..32&gt; cipher_suites&lt;2..2^16-2&gt;
    ///               legacy_compression_methods&lt;1..2^8-1&gt; extensions&lt;8..2^16-1&gt;
    /// extension:    type(2) length(2) data
    /// </code>
    /// </summary>
    public static DetectionResult Classify(ReadOnlySequence<byte> input)
    {
        Span<byte> header = stackalloc byte[5];
        if (input.Length < 5)
        {
            input.CopyTo(header);
            var seen = (int)input.Length;
            // Every prefix of a record header that can still be TLS asks for more.
            if ((seen > 1 && header[1] != 3) || (seen > 2 && header[2] > 4))
            {
                return DetectionResult.Opaque(OpaqueReason.Unrecognised);
            }

            return DetectionResult.NeedMore;
        }

        input.Slice(0, 5).CopyTo(header);
        var length = (header[3] << 8) | header[4];
        if (header[0] != 22 || header[1] != 3 || header[2] > 4 || length == 0 || length > MaxRecordLength + 2048)
        {
            return DetectionResult.Opaque(OpaqueReason.Unrecognised);
        }

        if (input.Length < 5 + length)
        {
            return DetectionResult.NeedMore;
        }

        var record = new byte[length];
        input.Slice(5, length).CopyTo(record);
        return ParseHandshake(record);
    }

    private static DetectionResult ParseHandshake(ReadOnlySpan<byte> record)
    {
        if (record.Length < 4 || record[0] != 1)
        {
            return DetectionResult.Opaque(OpaqueReason.Unrecognised); // not a ClientHello
        }

        // The ClientHello may continue in later records; parse what the first one holds.
        var body = record[4..];
        string? serverName = null;
        List<string>? alpn = null;
        var position = 2 + 32;
        if (!Skip(body, ref position, 1) || !Skip(body, ref position, 2) || !Skip(body, ref position, 1))
        {
            return new DetectionResult(DetectedProtocol.Tls);
        }

        if (position + 2 > body.Length)
        {
            return new DetectionResult(DetectedProtocol.Tls);
        }

        var extensionsEnd = Math.Min(body.Length, position + 2 + ((body[position] << 8) | body[position + 1]));
        position += 2;
        while (position + 4 <= extensionsEnd)
        {
            var type = (body[position] << 8) | body[position + 1];
            var size = (body[position + 2] << 8) | body[position + 3];
            position += 4;
            if (position + size > extensionsEnd)
            {
                break;
            }

            var data = body.Slice(position, size);
            position += size;
            if (type == 0)
            {
                serverName = ReadServerName(data);
            }
            else if (type == 16)
            {
                alpn = ReadAlpn(data);
            }
        }

        return new DetectionResult(DetectedProtocol.Tls, serverName, alpn);
    }

    /// <summary>server_name_list: length(2), then entries name_type(1) length(2) name; type 0 is host_name.</summary>
    private static string? ReadServerName(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
        {
            return null;
        }

        var end = Math.Min(data.Length, 2 + ((data[0] << 8) | data[1]));
        var position = 2;
        while (position + 3 <= end)
        {
            var nameType = data[position];
            var length = (data[position + 1] << 8) | data[position + 2];
            position += 3;
            if (position + length > end)
            {
                return null;
            }

            if (nameType == 0)
            {
                return Encoding.ASCII.GetString(data.Slice(position, length));
            }

            position += length;
        }

        return null;
    }

    /// <summary>protocol_name_list: length(2), then entries length(1) name.</summary>
    private static List<string>? ReadAlpn(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
        {
            return null;
        }

        var end = Math.Min(data.Length, 2 + ((data[0] << 8) | data[1]));
        var list = new List<string>();
        var position = 2;
        while (position < end)
        {
            var length = data[position++];
            if (length == 0 || position + length > end)
            {
                break;
            }

            list.Add(Encoding.ASCII.GetString(data.Slice(position, length)));
            position += length;
        }

        return list;
    }

    private static bool Skip(ReadOnlySpan<byte> body, ref int position, int lengthBytes)
    {
        if (position + lengthBytes > body.Length)
        {
            return false;
        }

        var length = lengthBytes == 1 ? body[position] : (body[position] << 8) | body[position + 1];
        position += lengthBytes + length;
        return position <= body.Length;
    }
}
