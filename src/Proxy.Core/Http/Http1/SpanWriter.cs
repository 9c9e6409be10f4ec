namespace Proxy.Http.Http1;

/// <summary>
/// Sequential writer over one span obtained from an IBufferWriter with a precomputed upper bound,
/// so a whole head is written with one GetSpan and one Advance.
/// </summary>
internal ref struct SpanWriter
{
    private readonly Span<byte> _span;
    private int _position;

    internal SpanWriter(Span<byte> span)
    {
        _span = span;
        _position = 0;
    }

    internal readonly int Position => _position;

    internal void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_span[_position..]);
        _position += bytes.Length;
    }

    internal void WriteByte(byte b) => _span[_position++] = b;

    internal void WriteCrlf()
    {
        _span[_position] = (byte)'\r';
        _span[_position + 1] = (byte)'\n';
        _position += 2;
    }

    internal void WriteInt64(long value)
    {
        value.TryFormat(_span[_position..], out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        _position += written;
    }

    /// <summary>Writes "name: value" CRLF.</summary>
    internal void WriteField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Write(name);
        WriteByte((byte)':');
        WriteByte((byte)' ');
        Write(value);
        WriteCrlf();
    }
}
