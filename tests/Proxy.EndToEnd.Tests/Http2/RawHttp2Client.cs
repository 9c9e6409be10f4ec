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
    private readonly HPackDecoder _decoder = new();
    private readonly Http2FrameReader _reader = new();
    private readonly byte[] _readBuffer = new byte[1 << 20];
    private int _readLength;

    private RawHttp2Client(Socket socket) => _socket = socket;

    public ArrayBufferWriter<byte> Output => _pending;

    /// <summary>Connects and sends the connection preface (<paramref name="preface"/> in place of the real one when given) and an empty SETTINGS.</summary>
    /// <remarks>With <paramref name="flush"/> false the preface waits in <see cref="Output"/> for the caller's first frames (one write).</remarks>
    public static async Task<RawHttp2Client> ConnectAsync(IPEndPoint address, byte[]? preface = null, bool flush = true)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address);
        var client = new RawHttp2Client(socket);
        if (preface is null)
        {
            Http2ConnectionPreface.Write(client._pending);
        }
        else
        {
            client._pending.Write(preface);
        }

        Http2FrameWriter.WriteSettings(client._pending, ReadOnlySpan<Http2Setting>.Empty);
        if (flush)
        {
            await client.FlushAsync();
        }

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

    /// <summary>An encoded block of regular fields only (trailers).</summary>
    public byte[] FieldBlock(params (string Name, string Value)[] fields)
    {
        var block = new ArrayBufferWriter<byte>();
        foreach (var (name, value) in fields)
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

    /// <summary>Sends DATA on a stream.</summary>
    public void Data(int streamId, byte[] data, bool endStream) =>
        Http2FrameWriter.WriteData(_pending, streamId, data, endStream, Http2Settings.DefaultMaxFrameSize);

    /// <summary>
    /// Reads frames until stream <paramref name="streamId"/> ends (END_STREAM or RST_STREAM) or the connection does:
    /// the decoded header blocks in order, the body, and the reset code. Blocks of other streams are decoded too,
    /// to keep the HPACK table in step, and dropped. With <paramref name="stopAfterHeaderBlocks"/> it returns early, after that many blocks.
    /// </summary>
    public async Task<StreamEvents> ReadStreamAsync(int streamId, int stopAfterHeaderBlocks = int.MaxValue, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var events = new StreamEvents();
        while (true)
        {
            var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(_readBuffer, 0, _readLength));
            while (_reader.TryReadFrame(ref sequence, out var frame, out _) is Http2ReadStatus.Frame or Http2ReadStatus.StreamError)
            {
                if (frame.Type == Http2FrameType.Headers)
                {
                    var fields = new List<(string, string)>();
                    var collector = new Collector(fields);
                    _decoder.Decode(frame.Payload.ToArray(), ref collector);
                    if (frame.StreamId == streamId)
                    {
                        events.HeaderBlocks.Add(fields);
                        if (events.HeaderBlocks.Count == stopAfterHeaderBlocks && !frame.EndStream)
                        {
                            Consume((int)sequence.Consumed);
                            return events;
                        }
                    }
                }
                else if (frame.Type == Http2FrameType.Data && frame.StreamId == streamId)
                {
                    events.Data.Write(frame.Payload.ToArray());
                }
                else if (frame.Type == Http2FrameType.RstStream && frame.StreamId == streamId)
                {
                    events.Reset = frame.ErrorCode;
                }
                else if (frame.Type == Http2FrameType.GoAway)
                {
                    events.GoAway = frame.ErrorCode;
                }

                if (frame.StreamId == streamId && (frame.EndStream || frame.Type == Http2FrameType.RstStream))
                {
                    events.Ended = frame.EndStream;
                    Consume((int)sequence.Consumed);
                    return events;
                }
            }

            Consume((int)sequence.Consumed);
            int read;
            try
            {
                read = await _socket.ReceiveAsync(_readBuffer.AsMemory(_readLength), deadline.Token);
            }
            catch (SocketException)
            {
                read = 0;
            }

            if (read == 0)
            {
                return events;
            }

            _readLength += read;
        }
    }

    /// <summary>
    /// Sends PING <paramref name="data"/> and reads every frame until its ACK, a GOAWAY, or the end of the connection.
    /// The proxy processes frames in order, so what it did about the frames sent before the PING is in the list: a
    /// frame it ignored leaves no trace, one it refused shows as RST_STREAM or GOAWAY.
    /// </summary>
    public async Task<List<FrameSeen>> PingAndReadAsync(ulong data = 0x5150_5150, TimeSpan? timeout = null)
    {
        Http2FrameWriter.WritePing(_pending, data, ack: false);
        await FlushAsync();
        return await ReadUntilAsync(f => (f.Type == Http2FrameType.Ping && f.Ack) || f.Type == Http2FrameType.GoAway, timeout);
    }

    /// <summary>Reads frames (decoding header blocks to keep HPACK in step) until <paramref name="stop"/> matches one or the connection ends.</summary>
    public async Task<List<FrameSeen>> ReadUntilAsync(Func<FrameSeen, bool> stop, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var seen = new List<FrameSeen>();
        while (true)
        {
            var sequence = new SequenceReader<byte>(new ReadOnlySequence<byte>(_readBuffer, 0, _readLength));
            while (_reader.TryReadFrame(ref sequence, out var frame, out _) is Http2ReadStatus.Frame or Http2ReadStatus.StreamError)
            {
                if (frame.Type == Http2FrameType.Headers)
                {
                    var collector = new Collector([]);
                    _decoder.Decode(frame.Payload.ToArray(), ref collector);
                }

                var summary = new FrameSeen(frame.Type, frame.StreamId, frame.EndStream, frame.IsAck,
                    frame.Type is Http2FrameType.RstStream or Http2FrameType.GoAway ? frame.ErrorCode : null);
                seen.Add(summary);
                if (stop(summary))
                {
                    Consume((int)sequence.Consumed);
                    return seen;
                }
            }

            Consume((int)sequence.Consumed);
            int read;
            try
            {
                read = await _socket.ReceiveAsync(_readBuffer.AsMemory(_readLength), deadline.Token);
            }
            catch (SocketException)
            {
                read = 0;
            }

            if (read == 0)
            {
                Closed = true;
                return seen;
            }

            _readLength += read;
        }
    }

    /// <summary>True once a read found the connection closed.</summary>
    public bool Closed { get; private set; }

    private void Consume(int consumed)
    {
        Buffer.BlockCopy(_readBuffer, consumed, _readBuffer, 0, _readLength - consumed);
        _readLength -= consumed;
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>One frame as a test looks at it.</summary>
    internal readonly record struct FrameSeen(Http2FrameType Type, int StreamId, bool EndStream, bool Ack, Http2ErrorCode? ErrorCode);

    /// <summary>What one stream received.</summary>
    internal sealed class StreamEvents
    {
        public List<List<(string Name, string Value)>> HeaderBlocks { get; } = [];

        public MemoryStream Data { get; } = new();

        public Http2ErrorCode? Reset { get; set; }

        public Http2ErrorCode? GoAway { get; set; }

        /// <summary>True when the stream ended with END_STREAM (not a reset or the connection's end).</summary>
        public bool Ended { get; set; }

        public string? Status(int block) => HeaderBlocks[block].FirstOrDefault(f => f.Name == ":status").Value;
    }

    private readonly struct Collector(List<(string, string)> fields) : IHPackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
            fields.Add((System.Text.Encoding.ASCII.GetString(name), System.Text.Encoding.ASCII.GetString(value)));
    }
}
