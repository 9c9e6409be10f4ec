using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Proxy.Http.Http2;
using Proxy.Http.Http2.HPack;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>A raw HTTP/2 client over a socket, writing frames with the codec's writer: for abuse tests.</summary>
internal sealed class RawHttp2Client : IDisposable
{
    private readonly Socket _socket;
    private readonly HPackEncoder _encoder = new();
    private readonly ArrayBufferWriter<byte> _pending = new();

    private RawHttp2Client(Socket socket) => _socket = socket;

    public ArrayBufferWriter<byte> Output => _pending;

    public static async Task<RawHttp2Client> ConnectAsync(IPEndPoint address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address);
        var client = new RawHttp2Client(socket);
        Http2ConnectionPreface.Write(client._pending);
        Http2FrameWriter.WriteSettings(client._pending, ReadOnlySpan<Http2Setting>.Empty);
        await client.FlushAsync();
        return client;
    }

    /// <summary>An encoded request block (:method, :scheme, :authority, :path, then the extra fields).</summary>
    public byte[] RequestBlock(string method, string path, params (string Name, string Value)[] extra)
    {
        var block = new ArrayBufferWriter<byte>();
        _encoder.Encode(block, ":method"u8, System.Text.Encoding.ASCII.GetBytes(method));
        _encoder.Encode(block, ":scheme"u8, "http"u8);
        _encoder.Encode(block, ":authority"u8, "test"u8);
        _encoder.Encode(block, ":path"u8, System.Text.Encoding.ASCII.GetBytes(path));
        foreach (var (name, value) in extra)
        {
            _encoder.Encode(block, System.Text.Encoding.ASCII.GetBytes(name), System.Text.Encoding.ASCII.GetBytes(value));
        }

        return block.WrittenSpan.ToArray();
    }

    public void Headers(int streamId, byte[] block, bool endStream) =>
        Http2FrameWriter.WriteHeaders(_pending, streamId, block, endStream, Http2Settings.DefaultMaxFrameSize);

    public async Task FlushAsync()
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        try
        {
            await _socket.SendAsync(_pending.WrittenMemory);
        }
        catch (SocketException)
        {
            // The proxy may already have closed the connection after its GOAWAY; reading still finds the frame.
        }

        _pending.ResetWrittenCount();
    }

    /// <summary>Reads frames until GOAWAY (its code) or the end of the connection (null).</summary>
    public async Task<Http2ErrorCode?> ReadUntilGoAwayAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var reader = new Http2FrameReader();
        var buffer = new byte[1 << 20];
        var length = 0;
        while (true)
        {
            int read;
            try
            {
                read = await _socket.ReceiveAsync(buffer.AsMemory(length), deadline.Token);
            }
            catch (SocketException)
            {
                return null;
            }

            if (read == 0)
            {
                return null;
            }

            length += read;
            var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, length));
            while (true)
            {
                var status = reader.TryReadFrame(ref sequence, out var frame, out _);
                if (status == Http2ReadStatus.NeedMoreData || status == Http2ReadStatus.ConnectionError)
                {
                    break;
                }

                if (frame.Type == Http2FrameType.GoAway)
                {
                    return frame.ErrorCode;
                }
            }

            var consumed = (int)sequence.Consumed;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
            length -= consumed;
        }
    }

    public void Dispose() => _socket.Dispose();
}
