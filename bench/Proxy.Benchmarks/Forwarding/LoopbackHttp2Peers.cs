using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Proxy.Benchmarks.Forwarding;

/// <summary>
/// The two ends of an HTTP/2 allocation measurement, written with raw frames over sockets so that
/// they allocate nothing per request themselves: whatever the process allocates per stream is the
/// proxy's. Also compiled into the end-to-end tests (linked file) for the allocation test there.
/// </summary>
public static class RawHttp2
{
    public const byte Data = 0x0, Headers = 0x1, Settings = 0x4, Ping = 0x6, GoAway = 0x7;
    public const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4;

    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Writes a 9-byte frame header (RFC 9113 4.1) at <paramref name="offset"/>; returns the offset after it.</summary>
    public static int WriteFrameHeader(byte[] buffer, int offset, int length, byte type, byte flags, int streamId)
    {
        buffer[offset] = (byte)(length >> 16);
        buffer[offset + 1] = (byte)(length >> 8);
        buffer[offset + 2] = (byte)length;
        buffer[offset + 3] = type;
        buffer[offset + 4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(offset + 5), streamId & int.MaxValue);
        return offset + 9;
    }

    /// <summary>A whole frame at the start of <paramref name="buffer"/>, or false when more bytes are needed.</summary>
    public static bool TryReadFrame(ReadOnlySpan<byte> buffer, out int length, out byte type, out byte flags, out int streamId)
    {
        length = 0;
        type = flags = 0;
        streamId = 0;
        if (buffer.Length < 9)
        {
            return false;
        }

        length = (buffer[0] << 16) | (buffer[1] << 8) | buffer[2];
        type = buffer[3];
        flags = buffer[4];
        streamId = BinaryPrimitives.ReadInt32BigEndian(buffer[5..]) & int.MaxValue;
        return buffer.Length >= 9 + length;
    }
}

/// <summary>
/// A minimal HTTP/2 (h2c prior knowledge) upstream: answers every request stream with HEADERS
/// (:status 200, static table index 8) and DATA "ok" with END_STREAM. It never decodes HPACK and
/// ignores flow control (its responses are 2 bytes; the proxy keeps crediting its window).
/// </summary>
public sealed class LoopbackHttp2Upstream : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public LoopbackHttp2Upstream()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                return;
            }

            client.NoDelay = true;
            _ = ServeAsync(client);
        }
    }

    private static async Task ServeAsync(Socket client)
    {
        using var _ = client;
        var receive = new byte[256 * 1024];
        var send = new byte[256 * 1024];
        int start = 0, end = 0;
        bool prefaceSeen = false;
        try
        {
            // Our SETTINGS (empty: defaults, no stream limit).
            int opening = RawHttp2.WriteFrameHeader(send, 0, 0, RawHttp2.Settings, 0, 0);
            await client.SendAsync(send.AsMemory(0, opening), SocketFlags.None).ConfigureAwait(false);
            while (true)
            {
                int read = await client.ReceiveAsync(receive.AsMemory(end), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                end += read;
                if (!prefaceSeen)
                {
                    if (end - start < RawHttp2.Preface.Length)
                    {
                        continue;
                    }

                    start += RawHttp2.Preface.Length;
                    prefaceSeen = true;
                }

                int length = 0;
                while (RawHttp2.TryReadFrame(receive.AsSpan(start, end - start), out int payload, out byte type, out byte flags, out int streamId))
                {
                    if (type == RawHttp2.Headers && (flags & RawHttp2.EndHeaders) != 0 && length + 32 <= send.Length)
                    {
                        length = RawHttp2.WriteFrameHeader(send, length, 1, RawHttp2.Headers, RawHttp2.EndHeaders, streamId);
                        send[length++] = 0x88; // :status: 200
                        length = RawHttp2.WriteFrameHeader(send, length, 2, RawHttp2.Data, RawHttp2.EndStream, streamId);
                        send[length++] = (byte)'o';
                        send[length++] = (byte)'k';
                    }
                    else if (type == RawHttp2.Settings && (flags & RawHttp2.Ack) == 0)
                    {
                        length = RawHttp2.WriteFrameHeader(send, length, 0, RawHttp2.Settings, RawHttp2.Ack, 0);
                    }
                    else if (type == RawHttp2.Ping && (flags & RawHttp2.Ack) == 0)
                    {
                        int at = RawHttp2.WriteFrameHeader(send, length, 8, RawHttp2.Ping, RawHttp2.Ack, 0);
                        receive.AsSpan(start + 9, 8).CopyTo(send.AsSpan(at));
                        length = at + 8;
                    }

                    start += 9 + payload;
                }

                if (length > 0)
                {
                    await client.SendAsync(send.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
                }

                receive.AsSpan(start, end - start).CopyTo(receive);
                end -= start;
                start = 0;
            }
        }
        catch (SocketException)
        {
        }
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>
/// A minimal HTTP/2 client with prior knowledge: opens <c>count</c> GET streams in one write and
/// reads frames until each has ended. Its windows are opened wide at the start so it never needs to
/// send WINDOW_UPDATE (2^31 bytes of 2-byte responses).
/// </summary>
public sealed class RawHttp2Client : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private readonly byte[] _block;
    private readonly byte[] _send = new byte[64 * 1024];
    private readonly byte[] _receive = new byte[256 * 1024];
    private int _start;
    private int _end;
    private int _nextStreamId = 1;

    /// <param name="authority">:authority of every request.</param>
    /// <param name="path">:path of every request.</param>
    public RawHttp2Client(string authority, string path)
    {
        // HPACK (RFC 7541): :method GET (static 2), :scheme http (static 6), then :path and :authority
        // as literals without indexing with an indexed name (6.2.2), so the block never changes.
        var block = new List<byte> { 0x82, 0x86, 0x04, (byte)path.Length };
        block.AddRange(System.Text.Encoding.ASCII.GetBytes(path));
        block.Add(0x01);
        block.Add((byte)authority.Length);
        block.AddRange(System.Text.Encoding.ASCII.GetBytes(authority));
        _block = block.ToArray();
    }

    /// <summary>Connects, sends the preface, SETTINGS and a connection WINDOW_UPDATE, and reads the peer's SETTINGS.</summary>
    public async Task ConnectAsync(EndPoint proxy)
    {
        await _socket.ConnectAsync(proxy).ConfigureAwait(false);
        int length = 0;
        RawHttp2.Preface.CopyTo(_send);
        length += RawHttp2.Preface.Length;

        // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 2^31 - 1.
        length = RawHttp2.WriteFrameHeader(_send, length, 6, RawHttp2.Settings, 0, 0);
        BinaryPrimitives.WriteUInt16BigEndian(_send.AsSpan(length), 0x4);
        BinaryPrimitives.WriteInt32BigEndian(_send.AsSpan(length + 2), int.MaxValue);
        length += 6;

        // WINDOW_UPDATE on the connection up to 2^31 - 1.
        length = RawHttp2.WriteFrameHeader(_send, length, 4, 0x8, 0, 0);
        BinaryPrimitives.WriteInt32BigEndian(_send.AsSpan(length), int.MaxValue - 65535);
        length += 4;
        await _socket.SendAsync(_send.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);

        // One round trip settles the SETTINGS exchange before measurements start.
        await RoundTripAsync(1).ConfigureAwait(false);
    }

    /// <summary>Opens <paramref name="count"/> streams in one write and waits until all of them ended.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RoundTripAsync(int count)
    {
        int length = 0;
        int first = _nextStreamId;
        for (int i = 0; i < count; i++)
        {
            length = RawHttp2.WriteFrameHeader(_send, length, _block.Length, RawHttp2.Headers, RawHttp2.EndHeaders | RawHttp2.EndStream, _nextStreamId);
            _block.CopyTo(_send, length);
            length += _block.Length;
            _nextStreamId += 2;
        }

        await _socket.SendAsync(_send.AsMemory(0, length), SocketFlags.None).ConfigureAwait(false);
        int remaining = count;
        while (true)
        {
            int reply = 0;
            while (RawHttp2.TryReadFrame(_receive.AsSpan(_start, _end - _start), out int payload, out byte type, out byte flags, out int streamId))
            {
                if ((type == RawHttp2.Data || type == RawHttp2.Headers) && (flags & RawHttp2.EndStream) != 0 && streamId >= first)
                {
                    remaining--;
                }
                else if (type == RawHttp2.Settings && (flags & RawHttp2.Ack) == 0)
                {
                    reply = RawHttp2.WriteFrameHeader(_send, reply, 0, RawHttp2.Settings, RawHttp2.Ack, 0);
                }
                else if (type == RawHttp2.GoAway)
                {
                    throw new InvalidOperationException("the proxy sent GOAWAY");
                }

                _start += 9 + payload;
            }

            if (reply > 0)
            {
                await _socket.SendAsync(_send.AsMemory(0, reply), SocketFlags.None).ConfigureAwait(false);
            }

            if (remaining <= 0)
            {
                return;
            }

            _receive.AsSpan(_start, _end - _start).CopyTo(_receive);
            _end -= _start;
            _start = 0;
            int read = await _socket.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException("the proxy closed the connection");
            }

            _end += read;
        }
    }

    public void Dispose() => _socket.Dispose();
}
