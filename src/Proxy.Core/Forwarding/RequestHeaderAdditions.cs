using System.Text;
using Proxy.Http.Http2;

namespace Proxy.Forwarding;

/// <summary>
/// Request fields the filter chain adds, kept once in one reused buffer and written by whichever upstream adapter
/// sends the request: as HTTP/1.1 field lines, or into an HTTP/2 header list. The buffer grows to the largest set seen
/// and is reused, so a steady state allocates nothing.
/// </summary>
public sealed class RequestHeaderAdditions
{
    private byte[] _lines = [];
    private int _length;
    private (int NameStart, int NameLength, int ValueStart, int ValueLength)[] _fields = [];
    private int _count;

    /// <summary>The added fields as HTTP/1.1 field lines ("name: value" CRLF each).</summary>
    public ReadOnlySpan<byte> Http1Lines => _lines.AsSpan(0, _length);

    /// <summary>
    /// Adds a field. <paramref name="lowerName"/> must be a lowercase field name (HTTP/2 requires it, RFC 9113 8.2.1);
    /// <paramref name="value"/> must be a valid field value: no CR, LF or NUL (RFC 9110 5.5).
    /// </summary>
    public void Add(ReadOnlySpan<byte> lowerName, ReadOnlySpan<byte> value)
    {
        if (lowerName.IsEmpty || lowerName.IndexOfAnyInRange((byte)'A', (byte)'Z') >= 0 || lowerName.IndexOfAny(" :\r\n"u8) >= 0)
        {
            throw new ArgumentException($"'{Encoding.ASCII.GetString(lowerName)}' is not a lowercase field name.", nameof(lowerName));
        }

        if (value.IndexOfAny("\r\n\0"u8) >= 0)
        {
            throw new ArgumentException("A field value cannot hold CR, LF or NUL.", nameof(value));
        }

        var needed = _length + lowerName.Length + value.Length + 4;
        if (needed > _lines.Length)
        {
            Array.Resize(ref _lines, Math.Max(needed, Math.Max(128, _lines.Length * 2)));
        }

        if (_count == _fields.Length)
        {
            Array.Resize(ref _fields, Math.Max(4, _fields.Length * 2));
        }

        var nameStart = _length;
        lowerName.CopyTo(_lines.AsSpan(_length));
        _length += lowerName.Length;
        ": "u8.CopyTo(_lines.AsSpan(_length));
        _length += 2;
        var valueStart = _length;
        value.CopyTo(_lines.AsSpan(_length));
        _length += value.Length;
        "\r\n"u8.CopyTo(_lines.AsSpan(_length));
        _length += 2;
        _fields[_count++] = (nameStart, lowerName.Length, valueStart, value.Length);
    }

    /// <summary>Adds every field to an HTTP/2 header list.</summary>
    public void AddTo(Http2HeaderList target)
    {
        for (var i = 0; i < _count; i++)
        {
            var (nameStart, nameLength, valueStart, valueLength) = _fields[i];
            target.Add(_lines.AsSpan(nameStart, nameLength), _lines.AsSpan(valueStart, valueLength));
        }
    }

    /// <summary>Forgets the fields (the buffers are kept for the next request).</summary>
    public void Clear()
    {
        _length = 0;
        _count = 0;
    }
}
