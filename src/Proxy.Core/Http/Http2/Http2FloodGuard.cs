namespace Proxy.Http.Http2;

/// <summary>
/// Per-connection abuse counters, kept apart from the codec as Envoy does: the connection reports what it sees and
/// a method returning true means the peer crossed a line and the connection must end with GOAWAY
/// (<see cref="Http2Defences.ErrorCode"/>). Owned by the connection's read loop, except <see cref="OnDataFrameSent"/>
/// which the writer calls under the connection lock; the counters are plain fields.
/// </summary>
public sealed class Http2FloodGuard
{
    private readonly Http2FloodLimits _limits;
    private long _windowStart;
    private int _resets;
    private int _completed;
    private int _settings;
    private int _pings;
    private int _refused;
    private int _emptyFrames;
    private int _oversized;
    private long _windowUpdates;
    private long _dataFramesSent;

    /// <summary>Creates a guard with <paramref name="limits"/> (or the defaults).</summary>
    public Http2FloodGuard(Http2FloodLimits? limits = null)
    {
        _limits = limits ?? Http2FloodLimits.Default;
        _windowStart = Environment.TickCount64;
    }

    /// <summary>The defence that tripped last, for the caller's metrics and logs.</summary>
    public Http2Defence Tripped { get; private set; }

    /// <summary>The peer reset a stream (RST_STREAM). True when resets dominate completed streams (CVE-2023-44487).</summary>
    public bool OnPeerReset()
    {
        Roll();
        _resets++;
        return _resets > _limits.MaxResetsPerWindow && _resets > _completed && Trip(Http2Defence.RapidReset);
    }

    /// <summary>A stream ended normally (both sides sent END_STREAM).</summary>
    public void OnStreamCompleted() => _completed++;

    /// <summary>A CONTINUATION frame arrived; <paramref name="framesInBlock"/> counts the block's frames so far.</summary>
    public bool OnContinuation(int framesInBlock) =>
        framesInBlock > _limits.MaxContinuationFrames && Trip(Http2Defence.ContinuationFlood);

    /// <summary>A field block outgrew the block buffer: always a flood.</summary>
    public bool OnHeaderBlockTooLarge() => Trip(Http2Defence.ContinuationFlood);

    /// <summary>A decoded header list was over the limit (the stream is answered 431).</summary>
    public bool OnHeaderListTooLarge() => ++_oversized > _limits.MaxOversizedHeaderLists && Trip(Http2Defence.HeaderListTooLarge);

    /// <summary>A SETTINGS frame (not an ACK) arrived.</summary>
    public bool OnSettings()
    {
        Roll();
        return ++_settings > _limits.MaxSettingsPerWindow && Trip(Http2Defence.SettingsFlood);
    }

    /// <summary>A PING frame (not an ACK) arrived.</summary>
    public bool OnPing()
    {
        Roll();
        return ++_pings > _limits.MaxPingsPerWindow && Trip(Http2Defence.PingFlood);
    }

    /// <summary>
    /// A DATA, HEADERS or CONTINUATION frame arrived; <paramref name="empty"/> when it has no payload and does not
    /// end the stream, which costs work and moves nothing.
    /// </summary>
    public bool OnPayloadFrame(bool empty)
    {
        if (!empty)
        {
            _emptyFrames = 0;
            return false;
        }

        return ++_emptyFrames > _limits.MaxConsecutiveEmptyFrames && Trip(Http2Defence.EmptyFrameFlood);
    }

    /// <summary>A WINDOW_UPDATE arrived.</summary>
    public bool OnWindowUpdate()
    {
        long allowed = _limits.WindowUpdateAllowance + (Volatile.Read(ref _dataFramesSent) * _limits.WindowUpdatesPerDataFrame);
        return ++_windowUpdates > allowed && Trip(Http2Defence.WindowUpdateFlood);
    }

    /// <summary>This side sent a DATA frame (called by the writer).</summary>
    public void OnDataFrameSent() => Interlocked.Increment(ref _dataFramesSent);

    /// <summary>A stream was refused for exceeding SETTINGS_MAX_CONCURRENT_STREAMS.</summary>
    public bool OnStreamRefused()
    {
        Roll();
        return ++_refused > _limits.MaxRefusedStreamsPerWindow && Trip(Http2Defence.StreamFlood);
    }

    /// <summary>A window overflowed (the caller sends FLOW_CONTROL_ERROR); recorded for metrics.</summary>
    public bool OnWindowOverflow() => Trip(Http2Defence.WindowOverflow);

    private bool Trip(Http2Defence defence)
    {
        Tripped = defence;
        return true;
    }

    private void Roll()
    {
        long now = Environment.TickCount64;
        if (now - _windowStart >= _limits.WindowMilliseconds)
        {
            _windowStart = now;
            _resets = _completed = _settings = _pings = _refused = 0;
        }
    }
}
