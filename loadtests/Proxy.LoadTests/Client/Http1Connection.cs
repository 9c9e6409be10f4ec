using System.Net;
using System.Net.Sockets;

namespace Proxy.LoadTests.Client;

/// <summary>
/// A raw-socket HTTP/1.1 keep-alive client connection: writes one preformatted request and reads
/// the response with <see cref="Http1ResponseParser"/>. No HttpClient on the hot path, so the
/// generator costs little CPU next to the proxy it measures. Reconnects lazily after any failure.
/// </summary>
public sealed class Http1Connection : ILoadConnection
{
    private readonly EndPoint _endPoint;
    private readonly ReadOnlyMemory<byte> _request;
    private readonly byte[] _buffer = new byte[Http1ResponseParser.MaxHeadBytes + 4096];
    private Socket? _socket;
    private int _start;
    private int _end;
    private CancellationTokenSource _timeout = new();

    /// <summary>A connection to <paramref name="endPoint"/> that sends <paramref name="request"/> each time.</summary>
    public Http1Connection(EndPoint endPoint, ReadOnlyMemory<byte> request)
    {
        _endPoint = endPoint;
        _request = request;
    }

    /// <summary>True while a socket is open (connected at least once and not failed since).</summary>
    public bool IsConnected => _socket is not null;

    /// <summary>Opens the connection now (rather than on the first request); false if the connect failed.</summary>
    public async ValueTask<bool> ConnectAsync(TimeSpan timeout)
    {
        if (_socket is not null)
        {
            return true;
        }

        ArmTimeout(timeout);
        try
        {
            await OpenAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Close(reset: false);
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask<RequestResult> SendAsync(TimeSpan timeout)
    {
        ArmTimeout(timeout);
        bool sent = false;
        try
        {
            if (_socket is null)
            {
                try
                {
                    await OpenAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    Close(reset: false);
                    return new RequestResult(RequestOutcome.ConnectFailed, 0, Sent: false);
                }
            }

            var socket = _socket!;
            var remaining = _request;
            while (!remaining.IsEmpty)
            {
                int n = await socket.SendAsync(remaining, SocketFlags.None, _timeout.Token).ConfigureAwait(false);
                remaining = remaining[n..];
            }

            sent = true;
            return await ReadResponseAsync(socket).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Close(reset: true);
            return new RequestResult(RequestOutcome.Timeout, 0, sent);
        }
        catch (SocketException e)
        {
            Close(reset: true);
            var outcome = e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
                ? RequestOutcome.ConnectionReset
                : RequestOutcome.ConnectionClosed;
            return new RequestResult(outcome, 0, sent);
        }
    }

    /// <summary>Closes the socket; the next request reconnects.</summary>
    public void Dispose()
    {
        Close(reset: false);
        _timeout.Dispose();
    }

    private async ValueTask OpenAsync()
    {
        var socket = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endPoint, _timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        _start = 0;
        _end = 0;
    }

    private async ValueTask<RequestResult> ReadResponseAsync(Socket socket)
    {
        ResponseHead head;
        while (true)
        {
            var status = Http1ResponseParser.TryParseHead(_buffer.AsSpan(_start, _end - _start), out head);
            if (status == ParseStatus.Invalid)
            {
                return Fail(RequestOutcome.ProtocolError);
            }

            if (status == ParseStatus.Done)
            {
                _start += head.Length;

                // Interim responses (RFC 9110 section 15.2) precede the final one on the same request.
                if (head.Status is >= 100 and < 200 and not 101)
                {
                    continue;
                }

                break;
            }

            if (!await FillAsync(socket).ConfigureAwait(false))
            {
                return Fail(RequestOutcome.ConnectionClosed);
            }
        }

        bool closeAfter = head.ConnectionClose;
        if (!head.HasNoBody)
        {
            if (head.Chunked)
            {
                var skipper = new ChunkedBodySkipper();
                while (true)
                {
                    var status = skipper.Consume(_buffer.AsSpan(_start, _end - _start), out int used);
                    _start += used;
                    if (status == ParseStatus.Done)
                    {
                        break;
                    }

                    if (status == ParseStatus.Invalid)
                    {
                        return Fail(RequestOutcome.ProtocolError);
                    }

                    if (!await FillAsync(socket).ConfigureAwait(false))
                    {
                        return Fail(RequestOutcome.ConnectionClosed);
                    }
                }
            }
            else if (head.ContentLength >= 0)
            {
                long remaining = head.ContentLength;
                while (true)
                {
                    int take = (int)Math.Min(remaining, _end - _start);
                    _start += take;
                    remaining -= take;
                    if (remaining == 0)
                    {
                        break;
                    }

                    if (!await FillAsync(socket).ConfigureAwait(false))
                    {
                        return Fail(RequestOutcome.ConnectionClosed);
                    }
                }
            }
            else
            {
                // RFC 9112 section 6.3 rule 8: no length, the body runs to the end of the connection.
                while (await FillAsync(socket).ConfigureAwait(false))
                {
                    _start = _end;
                }

                closeAfter = true;
            }
        }

        if (closeAfter)
        {
            Close(reset: false);
        }

        return RequestResult.FromStatus(head.Status);
    }

    private RequestResult Fail(RequestOutcome outcome)
    {
        Close(reset: true);
        return new RequestResult(outcome, 0, Sent: true);
    }

    /// <summary>Reads more bytes after the unconsumed ones; false on a clean close by the peer.</summary>
    private async ValueTask<bool> FillAsync(Socket socket)
    {
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        int n = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, _timeout.Token).ConfigureAwait(false);
        _end += n;
        return n > 0;
    }

    private void ArmTimeout(TimeSpan timeout)
    {
        if (!_timeout.TryReset())
        {
            _timeout.Dispose();
            _timeout = new CancellationTokenSource();
        }

        _timeout.CancelAfter(timeout);
    }

    private void Close(bool reset)
    {
        var socket = _socket;
        _socket = null;
        if (socket is null)
        {
            return;
        }

        if (reset)
        {
            // Abort rather than linger: the stream state is unknown after a failure.
            socket.LingerState = new LingerOption(true, 0);
        }

        socket.Dispose();
    }
}
