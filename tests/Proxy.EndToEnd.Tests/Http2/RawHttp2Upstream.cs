using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Http.Http2;
using Proxy.Http.Http2.HPack;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// A scripted HTTP/2 (h2c) upstream on a real socket, written with the codec's frame reader and writer, for the
/// behaviours Kestrel will not show: refused streams, GOAWAY, interim responses, lying content-lengths. Every
/// request is handed to <c>handler</c> once its HEADERS arrive; the body completes <see cref="Exchange.Body"/>.
/// </summary>
internal sealed class RawHttp2Upstream : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Exchange, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private int _connections;
    private int _requests;
    private int _goAways;
    private int _closed;

    private RawHttp2Upstream(Func<Exchange, Task> handler)
    {
        _handler = handler;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Request streams seen so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>GOAWAY frames received from the proxy.</summary>
    public int GoAways => Volatile.Read(ref _goAways);

    /// <summary>Connections the proxy closed.</summary>
    public int Closed => Volatile.Read(ref _closed);

    public static RawHttp2Upstream Start(Func<Exchange, Task> handler) => new(handler);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            lock (_accepted)
            {
                _accepted.Add(socket);
            }

            int index = Interlocked.Increment(ref _connections);
            _ = new Connection(this, socket, index).RunAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        lock (_accepted)
        {
            foreach (var socket in _accepted)
            {
                socket.Dispose();
            }
        }

        await Task.Yield();
    }

    /// <summary>One request stream and the means to answer it.</summary>
    internal sealed class Exchange(Connection connection, int streamId, List<(string Name, string Value)> headers)
    {
        private readonly TaskCompletionSource<byte[]> _body = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly MemoryStream _received = new();
        private readonly TaskCompletionSource<Http2ErrorCode> _reset = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Connection Connection { get; } = connection;

        public int StreamId { get; } = streamId;

        public List<(string Name, string Value)> Headers { get; } = headers;

        public string Path => Header(":path")!;

        public string Method => Header(":method")!;

        /// <summary>The whole request body, at END_STREAM.</summary>
        public Task<byte[]> Body => _body.Task;

        /// <summary>Completes with the code of the proxy's RST_STREAM for this stream.</summary>
        public Task<Http2ErrorCode> Reset => _reset.Task;

        public string? Header(string name) => Headers.FirstOrDefault(h => h.Name == name).Value;

        public Task RespondAsync(int status, string body, params (string Name, string Value)[] fields)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            return Connection.SendAsync(w =>
            {
                Connection.WriteHeaders(w, StreamId, status, fields, endStream: bytes.Length == 0);
                if (bytes.Length > 0)
                {
                    Http2FrameWriter.WriteData(w, StreamId, bytes, endStream: true, Http2Settings.DefaultMaxFrameSize);
                }
            });
        }

        public Task HeadersAsync(int status, bool endStream, params (string Name, string Value)[] fields) =>
            Connection.SendAsync(w => Connection.WriteHeaders(w, StreamId, status, fields, endStream));

        public Task DataAsync(byte[] data, bool endStream) =>
            Connection.SendAsync(w => Http2FrameWriter.WriteData(w, StreamId, data, endStream, Http2Settings.DefaultMaxFrameSize));

        public Task ResetAsync(Http2ErrorCode code) =>
            Connection.SendAsync(w => Http2FrameWriter.WriteRstStream(w, StreamId, code));

        /// <summary>A trailer block (no :status) that ends the response.</summary>
        public Task TrailersAsync(params (string Name, string Value)[] fields) =>
            Connection.SendAsync(w => Connection.WriteTrailers(w, StreamId, fields));

        /// <summary>Body bytes received so far.</summary>
        public int ReceivedLength
        {
            get
            {
                lock (_received)
                {
                    return (int)_received.Length;
                }
            }
        }

        /// <summary>The body bytes received so far.</summary>
        public byte[] ReceivedSoFar()
        {
            lock (_received)
            {
                return _received.ToArray();
            }
        }

        /// <summary>Completes once at least <paramref name="bytes"/> of the body arrived, or the body ended.</summary>
        public async Task WaitForBodyAsync(int bytes)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (ReceivedLength < bytes && !Body.IsCompleted)
            {
                await Task.Delay(5, timeout.Token);
            }
        }

        internal void OnData(ReadOnlySequence<byte> data)
        {
            lock (_received)
            {
                foreach (var segment in data)
                {
                    _received.Write(segment.Span);
                }
            }
        }

        internal void OnEnd() => _body.TrySetResult(ReceivedSoFar());

        internal void OnReset(Http2ErrorCode code) => _reset.TrySetResult(code);
    }

    /// <summary>One accepted connection: the read loop and a send lock that also guards the HPACK encoder.</summary>
    internal sealed class Connection(RawHttp2Upstream owner, Socket socket, int index)
    {
        private readonly SemaphoreSlim _send = new(1, 1);
        private readonly HPackEncoder _encoder = new();
        private readonly HPackDecoder _decoder = new();
        private readonly Dictionary<int, Exchange> _streams = [];

        /// <summary>1 for the first connection accepted, 2 for the second...</summary>
        public int Index { get; } = index;

        public async Task SendAsync(Action<ArrayBufferWriter<byte>> write)
        {
            await _send.WaitAsync();
            try
            {
                var buffer = new ArrayBufferWriter<byte>();
                write(buffer);
                await socket.SendAsync(buffer.WrittenMemory);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // the proxy closed the connection
            }
            finally
            {
                _send.Release();
            }
        }

        public Task GoAwayAsync(int lastStreamId, Http2ErrorCode code) =>
            SendAsync(w => Http2FrameWriter.WriteGoAway(w, lastStreamId, code));

        internal void WriteHeaders(ArrayBufferWriter<byte> output, int streamId, int status, (string Name, string Value)[] fields, bool endStream)
        {
            var block = new ArrayBufferWriter<byte>();
            _encoder.Encode(block, ":status"u8, Encoding.ASCII.GetBytes(status.ToString()));
            foreach (var (name, value) in fields)
            {
                _encoder.Encode(block, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
            }

            Http2FrameWriter.WriteHeaders(output, streamId, block.WrittenSpan, endStream, Http2Settings.DefaultMaxFrameSize);
        }

        internal void WriteTrailers(ArrayBufferWriter<byte> output, int streamId, (string Name, string Value)[] fields)
        {
            var block = new ArrayBufferWriter<byte>();
            foreach (var (name, value) in fields)
            {
                _encoder.Encode(block, Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
            }

            Http2FrameWriter.WriteHeaders(output, streamId, block.WrittenSpan, endStream: true, Http2Settings.DefaultMaxFrameSize);
        }

        public async Task RunAsync()
        {
            var buffer = new byte[1 << 20];
            var length = 0;
            var preface = false;
            var reader = new Http2FrameReader();
            await SendAsync(w => Http2FrameWriter.WriteSettings(w, ReadOnlySpan<Http2Setting>.Empty));
            try
            {
                while (true)
                {
                    var read = await socket.ReceiveAsync(buffer.AsMemory(length));
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                    var consumed = 0;
                    if (!preface)
                    {
                        if (length < 24)
                        {
                            continue;
                        }

                        preface = true;
                        consumed = 24;
                    }

                    // The payloads point into the buffer, which stays as it is until the frames are handled.
                    var frames = ReadFrames(reader, new ReadOnlySequence<byte>(buffer, consumed, length - consumed), out var used);
                    foreach (var frame in frames)
                    {
                        await OnFrameAsync(frame);
                    }

                    consumed += used;
                    Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
                    length -= consumed;
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // closed
            }

            Interlocked.Increment(ref owner._closed);
        }

        private static List<Http2Frame> ReadFrames(Http2FrameReader reader, ReadOnlySequence<byte> bytes, out int consumed)
        {
            var frames = new List<Http2Frame>();
            var sequence = new SequenceReader<byte>(bytes);
            while (reader.TryReadFrame(ref sequence, out var frame, out _) is not (Http2ReadStatus.NeedMoreData or Http2ReadStatus.ConnectionError))
            {
                frames.Add(frame);
            }

            consumed = (int)sequence.Consumed;
            return frames;
        }

        private async Task OnFrameAsync(Http2Frame frame)
        {
            switch (frame.Type)
            {
                case Http2FrameType.Settings when !frame.IsAck:
                    await SendAsync(Http2FrameWriter.WriteSettingsAck);
                    break;
                case Http2FrameType.Ping when !frame.IsAck:
                    var data = frame.PingData;
                    await SendAsync(w => Http2FrameWriter.WritePing(w, data, ack: true));
                    break;
                case Http2FrameType.GoAway:
                    Interlocked.Increment(ref owner._goAways);
                    break;
                case Http2FrameType.RstStream:
                    if (_streams.TryGetValue(frame.StreamId, out var reset))
                    {
                        reset.OnReset(frame.ErrorCode);
                    }

                    break;
                case Http2FrameType.Headers:
                    if (_streams.TryGetValue(frame.StreamId, out var open))
                    {
                        // Request trailers: ignored, but they may end the stream.
                        if (frame.EndStream)
                        {
                            open.OnEnd();
                        }

                        var ignored = new Collector([]);
                        _decoder.Decode(frame.Payload.ToArray(), ref ignored);
                        break;
                    }

                    var fields = new List<(string, string)>();
                    var collector = new Collector(fields);
                    _decoder.Decode(frame.Payload.ToArray(), ref collector);
                    var exchange = new Exchange(this, frame.StreamId, fields);
                    _streams[frame.StreamId] = exchange;
                    Interlocked.Increment(ref owner._requests);
                    if (frame.EndStream)
                    {
                        exchange.OnEnd();
                    }

                    _ = Task.Run(() => owner._handler(exchange));
                    break;
                case Http2FrameType.Data:
                    if (_streams.TryGetValue(frame.StreamId, out var target))
                    {
                        target.OnData(frame.Payload);
                        if (frame.EndStream)
                        {
                            target.OnEnd();
                        }
                    }

                    if (frame.FlowControlledLength > 0)
                    {
                        var (id, increment) = (frame.StreamId, frame.FlowControlledLength);
                        await SendAsync(w =>
                        {
                            Http2FrameWriter.WriteWindowUpdate(w, 0, increment);
                            Http2FrameWriter.WriteWindowUpdate(w, id, increment);
                        });
                    }

                    break;
            }
        }
    }

    private readonly struct Collector(List<(string, string)> fields) : IHPackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
            fields.Add((Encoding.ASCII.GetString(name), Encoding.ASCII.GetString(value)));
    }
}
