using System.Text;
using Proxy.Http.Http2;

namespace Proxy.Headers;

/// <summary>
/// Fields the proxy adds to one message (the filters' and the route's additions to a request, or the route's to a
/// response), kept once in one reused buffer and written by whichever adapter sends the message: as HTTP/1.1 field
/// lines, or into an HTTP/2 header list. The buffer grows to the largest set seen and is reused, so a steady state
/// allocates nothing.
/// </summary>
public sealed class FieldAdditions
{
    private byte[] _lines = [];
    private int _length;
    private (int NameStart, int NameLength, int ValueStart, int ValueLength)[] _fields = [];
    private int _count;
    private int _openField = -1; // the line start of a field whose value is being appended, or -1

    /// <summary>The added fields as HTTP/1.1 field lines ("name: value" CRLF each).</summary>
    public ReadOnlySpan<byte> Http1Lines => _lines.AsSpan(0, _length);

    /// <summary>How many fields there are.</summary>
    public int Count => _count;

    /// <summary>
    /// Adds a field. <paramref name="lowerName"/> must be a lowercase field name (HTTP/2 requires it, RFC 9113 8.2.1);
    /// <paramref name="value"/> must be a valid field value: no CR, LF or NUL (RFC 9110 5.5).
    /// </summary>
    public void Add(ReadOnlySpan<byte> lowerName, ReadOnlySpan<byte> value)
    {
        BeginField(lowerName);
        AppendValue(value);
        EndField(keepEmpty: true);
    }

    /// <summary>Starts a field whose value is then written in pieces (<see cref="AppendValue"/>, <see cref="EndField"/>).</summary>
    public void BeginField(ReadOnlySpan<byte> lowerName)
    {
        if (lowerName.IsEmpty || lowerName.IndexOfAnyInRange((byte)'A', (byte)'Z') >= 0 || lowerName.IndexOfAny(" :\r\n"u8) >= 0)
        {
            throw new ArgumentException($"'{Encoding.ASCII.GetString(lowerName)}' is not a lowercase field name.", nameof(lowerName));
        }

        if (_openField >= 0)
        {
            throw new InvalidOperationException("The previous field is not ended.");
        }

        _openField = _length;
        Append(lowerName);
        Append(": "u8);
    }

    /// <summary>Appends to the value of the field begun last.</summary>
    public void AppendValue(ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAny("\r\n\0"u8) >= 0)
        {
            throw new ArgumentException("A field value cannot hold CR, LF or NUL.", nameof(value));
        }

        Append(value);
    }

    /// <summary>
    /// Ends the field begun last. An empty value is dropped unless <paramref name="keepEmpty"/> (Envoy adds no field whose
    /// value came out empty, such as a variable with nothing to say); returns false then.
    /// </summary>
    public bool EndField(bool keepEmpty = false)
    {
        var lineStart = _openField;
        _openField = -1;
        var nameLength = _lines.AsSpan(lineStart, _length - lineStart).IndexOf((byte)':');
        var valueStart = lineStart + nameLength + 2;
        if (_length == valueStart && !keepEmpty)
        {
            _length = lineStart;
            return false;
        }

        var valueLength = _length - valueStart;
        Append("\r\n"u8);
        if (_count == _fields.Length)
        {
            Array.Resize(ref _fields, Math.Max(4, _fields.Length * 2));
        }

        _fields[_count++] = (lineStart, nameLength, valueStart, valueLength);
        return true;
    }

    /// <summary>The name of field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetName(int index) => _lines.AsSpan(_fields[index].NameStart, _fields[index].NameLength);

    /// <summary>The value of field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> GetValue(int index) => _lines.AsSpan(_fields[index].ValueStart, _fields[index].ValueLength);

    /// <summary>Adds every field to an HTTP/2 header list.</summary>
    public void AddTo(Http2HeaderList target)
    {
        for (var i = 0; i < _count; i++)
        {
            target.Add(GetName(i), GetValue(i));
        }
    }

    /// <summary>Forgets the fields (the buffers are kept for the next request).</summary>
    public void Clear()
    {
        _length = 0;
        _count = 0;
        _openField = -1;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        var needed = _length + bytes.Length + 2;
        if (needed > _lines.Length)
        {
            Array.Resize(ref _lines, Math.Max(needed, Math.Max(128, _lines.Length * 2)));
        }

        bytes.CopyTo(_lines.AsSpan(_length));
        _length += bytes.Length;
    }
}
