using System.IO.Pipelines;

namespace Proxy.Http.Http2;

/// <summary>
/// The client (upstream) side of an HTTP/2 connection: sends the preface with SETTINGS_ENABLE_PUSH=0, opens
/// streams with odd ids in order and multiplexes them up to the peer's SETTINGS_MAX_CONCURRENT_STREAMS.
/// </summary>
public sealed class Http2ClientConnection : Http2Connection
{
    /// <summary>Streams assumed allowed before the peer's SETTINGS arrive (RFC 9113 recommends at least 100).</summary>
    public const int AssumedMaxConcurrentStreams = 100;

    private Task _run = Task.CompletedTask;
    private long _lastStreamClosed = Environment.TickCount64; // guarded by the connection lock

    /// <summary>Creates a client connection over <paramref name="transport"/>; call <see cref="Start"/>.</summary>
    public Http2ClientConnection(IDuplexPipe transport, IDisposable connection, Http2ConnectionOptions? options = null)
        : base(transport, connection, isServer: false, options)
    {
    }

    /// <summary>Raised (under no lock) when the connection ended.</summary>
    public event Action<Http2ClientConnection>? Closed;

    /// <summary>Completes when the read loop has ended.</summary>
    public Task Completion => _run;

    /// <summary>Sends the preface and starts the read loop.</summary>
    public void Start() => _run = RunConnectionAsync();

    /// <summary>Most streams open at once: the peer's limit, or <see cref="AssumedMaxConcurrentStreams"/> before it is known.</summary>
    public int StreamLimit
    {
        get
        {
            lock (SyncRoot)
            {
                return PeerSettingsKnown ? PeerSettings.MaxConcurrentStreams : Math.Min(PeerSettings.MaxConcurrentStreams, AssumedMaxConcurrentStreams);
            }
        }
    }

    /// <summary>
    /// Opens a stream and sends <paramref name="headers"/> as its request headers in one step, so stream ids reach
    /// the wire in increasing order (5.1.1). Returns null when the connection is closing or full. The caller then
    /// schedules the flush (<see cref="Http2Connection.ScheduleFlush"/>). Interim (1xx) responses go to
    /// <paramref name="interimSink"/> when given, and are dropped otherwise.
    /// </summary>
    public Http2Stream? TryOpenStream(Http2HeaderList headers, bool endStream, IHttp2InterimResponseSink? interimSink = null) =>
        TryOpenStreamCore(headers, endStream, interimSink);

    /// <summary>
    /// True when no stream is open and none has been since <paramref name="idleTimeoutMs"/> before
    /// <paramref name="nowMilliseconds"/> (<see cref="Environment.TickCount64"/>): the pool closes such a connection.
    /// </summary>
    public bool IsIdle(long nowMilliseconds, long idleTimeoutMs)
    {
        lock (SyncRoot)
        {
            return ActiveStreamsLocked == 0 && nowMilliseconds - _lastStreamClosed > idleTimeoutMs;
        }
    }

    private protected override void OnStreamClosedLocked(Http2Stream stream) => _lastStreamClosed = Environment.TickCount64;

    protected override void OnClosed() => Closed?.Invoke(this);
}
