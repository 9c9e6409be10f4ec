namespace Proxy.EndToEnd.Tests.Support;

/// <summary>A read-only stream that hides its length, so HttpClient sends it chunked.</summary>
public sealed class UnknownLengthStream(byte[] data) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var take = Math.Min(count, Math.Min(data.Length - _position, 50_000));
        Array.Copy(data, _position, buffer, offset, take);
        _position += take;
        return take;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
