using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Proxy.Http.Http2.HPack;

namespace Proxy.Http.Http2;

/// <summary>
/// One HTTP/2 connection, either side (RFC 9113): the read loop that validates frames and drives the stream state
/// machine (5.1), flow control both ways (5.2, 6.9), SETTINGS, PING, GOAWAY and RST_STREAM, and the send methods
/// forwarders call. The server role learns of new streams through
/// <see cref="OnStreamStarted"/>; the client role opens them with <see cref="Http2ClientConnection.TryOpenStream"/>.
/// </summary>
/// <remarks>
/// One lock (<c>_sync</c>) guards the stream table, the windows, the HPACK encoder and the transport's output: a frame
/// is encoded and written in one critical section, so frames never interleave and HPACK state matches the wire
/// order. The lock is never held across an await; flushing is done by one flusher at a time outside it (see
/// <see cref="FlushAsync"/>). The read loop is the only reader of the transport and the only user of the HPACK
/// decoder and the header block buffer.
/// </remarks>
public abstract partial class Http2Connection : IThreadPoolWorkItem
{
    private readonly IDisposable _transport;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly bool _isServer;
    private readonly Http2FrameReader _frames = new();
    private readonly HPackDecoder _decoder;
    private readonly HPackEncoder _encoder = new();
    private readonly Http2HeaderBlockBuffer _block;
    private readonly ArrayBufferWriter<byte> _encoded = new(1024);
    private readonly Http2Settings _peer = new();
    private readonly Http2FloodGuard _guard;
    private readonly Dictionary<int, Http2Stream> _streams = new();
    private readonly List<Http2Stream> _blocked = new();
    private readonly Http2HeaderList _discard = new();
    private Http2HeaderList _scratch = new(); // the read loop decodes here, then swaps the list into its stream
    private readonly Lock _sync = new();
    private readonly Http2ClosedStreams _closedStreams = new();

    // Guarded by _sync.
    private Http2FlowWindow _sendWindow = new(Http2Settings.DefaultInitialWindowSize);
    private Http2FlowWindow _receiveWindow;
    private int _lastPeerStreamId;
    private int _goAwayLastStreamId; // the last stream our first GOAWAY promised to process (6.8)
    private int _nextStreamId = 1;
    private bool _goAwaySent;
    private bool _goAwayReceived;
    private bool _closed;
    private bool _flushing;
    private bool _dirty;
    private bool _flushScheduled;
    private TaskCompletionSource<bool>? _drained;
    private bool _peerSettingsReceived;
    private Http2ErrorCode _closeCode = Http2ErrorCode.Cancel;
    private int _readThreadId; // the thread the read loop last ran on (a socket engine thread; see ReadThreadId)

    /// <param name="transport">The byte stream: a socket's pipes, or TLS over them.</param>
    /// <param name="connection">Closes the transport.</param>
    /// <param name="isServer">True for the downstream (server) role.</param>
    /// <param name="options">Advertised settings and limits.</param>
    protected Http2Connection(IDuplexPipe transport, IDisposable connection, bool isServer, Http2ConnectionOptions? options)
    {
        _transport = connection;
        _input = transport.Input;
        _output = transport.Output;
        _isServer = isServer;
        Options = options ?? Http2ConnectionOptions.Default;
        _decoder = new HPackDecoder(HPackDecoder.DefaultMaxTableSize, Options.MaxHeaderListSize);
        _block = new Http2HeaderBlockBuffer(Options.MaxHeaderBlockSize);
        _guard = new Http2FloodGuard(Options.Flood);
        _receiveWindow = new Http2FlowWindow(Math.Max(Options.ConnectionWindowSize, Http2Settings.DefaultInitialWindowSize));
    }

    /// <summary>Settings and limits of this side.</summary>
    public Http2ConnectionOptions Options { get; }

    /// <summary>The peer's settings (read under no lock: values are ints, stale reads are harmless).</summary>
    public Http2Settings PeerSettings => _peer;

    /// <summary>Streams open now.</summary>
    public int ActiveStreams
    {
        get
        {
            lock (_sync)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>True once the connection ended (error, GOAWAY completed, or transport closed).</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>
    /// The managed thread id the read loop last ran on, 0 before its first read. With inline socket completions a
    /// socket's reads always complete on the one engine thread it was registered with, so this names the thread
    /// that runs the connection's frames and the work they wake (an upstream pool prefers connections read on the caller's thread).
    /// </summary>
    public int ReadThreadId => Volatile.Read(ref _readThreadId);

    /// <summary>True once either side sent GOAWAY: no new streams.</summary>
    public bool IsGoingAway
    {
        get
        {
            lock (_sync)
            {
                return _goAwaySent || _goAwayReceived;
            }
        }
    }

    private protected Lock SyncRoot => _sync;

    private protected int ActiveStreamsLocked => _streams.Count;

    private protected bool PeerSettingsKnown => _peerSettingsReceived;

    /// <summary>
    /// Client role: allocates the next odd id and sends the request headers, or null when closing or full.
    /// <paramref name="interimSink"/> receives the stream's 1xx responses; it is set before the headers leave, so
    /// none can be missed.
    /// </summary>
    private protected Http2Stream? TryOpenStreamCore(Http2HeaderList headers, bool endStream, IHttp2InterimResponseSink? interimSink = null)
    {
        lock (_sync)
        {
            int limit = _peerSettingsReceived ? _peer.MaxConcurrentStreams : Math.Min(_peer.MaxConcurrentStreams, Http2ClientConnection.AssumedMaxConcurrentStreams);
            if (_closed || _goAwaySent || _goAwayReceived || _streams.Count >= limit || _nextStreamId > int.MaxValue - 2)
            {
                return null;
            }

            int id = _nextStreamId;
            _nextStreamId += 2;
            Http2Stream stream = Http2StreamPool.Rent();
            stream.Start(this, id, _peer.InitialWindowSize, Options.InitialStreamWindowSize);
            stream.RequestIsHead = headers.Method.SequenceEqual("HEAD"u8);
            stream.InterimSink = interimSink;
            _streams.Add(id, stream);
            WriteHeadersLocked(id, headers, endStream);
            if (endStream)
            {
                EndStreamSentLocked(stream);
            }

            return stream;
        }
    }

    /// <summary>A new peer-initiated stream whose request headers are valid (server role). Runs on the read loop: start work, do not block.</summary>
    protected virtual void OnStreamStarted(Http2Stream stream)
    {
    }

    /// <summary>A defence of <see cref="Http2FloodGuard"/> tripped; the connection is about to send GOAWAY.</summary>
    protected virtual void OnDefenceTripped(Http2Defence defence)
    {
    }

    /// <summary>A stream left the table (capacity freed). Called under the connection lock.</summary>
    private protected virtual void OnStreamClosedLocked(Http2Stream stream)
    {
    }

    /// <summary>The connection ended; every stream has been aborted.</summary>
    protected virtual void OnClosed()
    {
    }

    /// <summary>
    /// Writes the opening frames (the client preface first on the client side, then SETTINGS and the connection
    /// window increase) and runs the read loop until the connection ends.
    /// </summary>
    protected async Task RunConnectionAsync()
    {
        try
        {
            lock (_sync)
            {
                WriteOpeningLocked();
            }

            if (!await FlushAsync().ConfigureAwait(false))
            {
                return;
            }

            if (_isServer && !await ReadPrefaceAsync().ConfigureAwait(false))
            {
                return;
            }

            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionLoss(ex))
        {
            // The transport went away; streams are aborted below.
        }
        finally
        {
            CloseAll();
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Graceful shutdown (drain): GOAWAY with NO_ERROR and the last stream accepted, then the open streams finish and
    /// the connection closes.
    /// </summary>
    public ValueTask<bool> ShutdownAsync()
    {
        lock (_sync)
        {
            if (_closed || _goAwaySent)
            {
                return new ValueTask<bool>(false);
            }

            _goAwaySent = true;
            _goAwayLastStreamId = _lastPeerStreamId;
            _closeCode = Http2ErrorCode.NoError;
            Http2FrameWriter.WriteGoAway(_output, _lastPeerStreamId, Http2ErrorCode.NoError);
            StopReadingIfIdleLocked();
        }

        return FlushAsync();
    }

    /// <summary>Closes the transport now; the read loop ends and every stream is aborted.</summary>
    public void Abort()
    {
        lock (_sync)
        {
            _closed = true;
        }

        _transport.Dispose();
        _input.CancelPendingRead();
    }

    private void WriteOpeningLocked()
    {
        if (!_isServer)
        {
            Http2ConnectionPreface.Write(_output);
        }

        // RFC 9113 3.4: the first frame either side sends is SETTINGS.
        Span<Http2Setting> settings = stackalloc Http2Setting[4];
        int count = 0;
        if (_isServer)
        {
            settings[count++] = new(Http2SettingsParameter.MaxConcurrentStreams, (uint)Options.MaxConcurrentStreams);
        }
        else
        {
            settings[count++] = new(Http2SettingsParameter.EnablePush, 0);
        }

        settings[count++] = new(Http2SettingsParameter.InitialWindowSize, (uint)Options.InitialStreamWindowSize);
        settings[count++] = new(Http2SettingsParameter.MaxHeaderListSize, (uint)Options.MaxHeaderListSize);
        Http2FrameWriter.WriteSettings(_output, settings[..count]);
        int raise = _receiveWindow.Size - Http2Settings.DefaultInitialWindowSize;
        if (raise > 0)
        {
            Http2FrameWriter.WriteWindowUpdate(_output, 0, raise);
        }
    }

    private async ValueTask<bool> ReadPrefaceAsync()
    {
        while (true)
        {
            ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
            var reader = new SequenceReader<byte>(result.Buffer);
            Http2PrefaceStatus status = Http2ConnectionPreface.TryRead(ref reader);
            if (status == Http2PrefaceStatus.Valid)
            {
                _input.AdvanceTo(reader.Position);
                return true;
            }

            _input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (status == Http2PrefaceStatus.Invalid)
            {
                lock (_sync)
                {
                    FailLocked(Http2ErrorCode.ProtocolError, "invalid connection preface");
                }

                await FlushAsync().ConfigureAwait(false);
                return false;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return false;
            }
        }
    }

    /// <summary>Writes GOAWAY with <paramref name="code"/>; the read loop stops after this.</summary>
    private void FailLocked(Http2ErrorCode code, string reason)
    {
        if (_closed)
        {
            return;
        }

        _closeCode = code;
        if (!_goAwaySent || code != Http2ErrorCode.NoError)
        {
            if (!_goAwaySent)
            {
                _goAwayLastStreamId = _lastPeerStreamId;
            }

            _goAwaySent = true;
            Span<byte> debug = stackalloc byte[Math.Min(reason.Length, 128)];
            int length = Encoding.ASCII.GetBytes(reason.AsSpan(0, debug.Length), debug);
            Http2FrameWriter.WriteGoAway(_output, _lastPeerStreamId, code, debug[..length]);
        }
    }

    private void StopReadingIfIdleLocked()
    {
        // After GOAWAY, the connection ends when its last stream does.
        if (_goAwaySent && _streams.Count == 0)
        {
            _input.CancelPendingRead();
        }
    }

    private void CloseAll()
    {
        Http2Stream[] streams;
        TaskCompletionSource<bool>? drained;
        lock (_sync)
        {
            _closed = true;
            streams = new Http2Stream[_streams.Count];
            _streams.Values.CopyTo(streams, 0);
            _streams.Clear();
            _blocked.Clear();
            foreach (Http2Stream stream in streams)
            {
                stream.State = Http2StreamState.Closed;
                stream.ResetCode ??= _closeCode == Http2ErrorCode.NoError ? Http2ErrorCode.Cancel : _closeCode;
                stream.Abort(stream.ResetCode.Value);
                OnStreamClosedLocked(stream);
            }

            drained = _drained;
            _drained = null;
        }

        drained?.TrySetResult(false);

        OnClosed();
    }

    /// <summary>True when an exception means the connection went away (see <see cref="Transport.ConnectionErrors"/>).</summary>
    public static bool IsConnectionLoss(Exception ex) => Transport.ConnectionErrors.IsConnectionLoss(ex);
}
