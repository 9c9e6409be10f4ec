namespace Proxy.Http.Http2;

/// <summary>
/// One flow-control window (RFC 9113 5.2, 6.9) of a stream or of the connection, on either side. Held as a
/// mutable field by its owner (the connection's single writer or reader), never copied.
/// </summary>
/// <remarks>
/// Send side: <see cref="Available"/> bounds what may be sent, <see cref="TryConsume"/> on send,
/// <see cref="TryCredit"/> on WINDOW_UPDATE, <see cref="TryAdjust"/> on a SETTINGS_INITIAL_WINDOW_SIZE change
/// (which may leave the window negative, 6.9.2). Receive side: <see cref="TryConsume"/> when DATA arrives (false
/// is a FLOW_CONTROL_ERROR), <see cref="Release"/> when the data has been forwarded; it batches the credit and
/// says when a WINDOW_UPDATE is due, so small frames do not each cost an update.
/// </remarks>
public struct Http2FlowWindow
{
    private int _available;
    private int _size;
    private int _unannounced;

    /// <summary>Creates a window of <paramref name="size"/> bytes (65535 by default for both streams and connections).</summary>
    public Http2FlowWindow(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        _available = size;
        _size = size;
        _unannounced = 0;
    }

    /// <summary>Bytes that may still be sent (send side) or received (receive side); negative after a decrease.</summary>
    public readonly int Available => _available;

    /// <summary>The nominal size the window is replenished to (the initial window size).</summary>
    public readonly int Size => _size;

    /// <summary>Released bytes not yet announced in a WINDOW_UPDATE.</summary>
    public readonly int Unannounced => _unannounced;

    /// <summary>
    /// Takes <paramref name="bytes"/> from the window. Returns false, changing nothing, when they exceed it; on the
    /// receive side that is a FLOW_CONTROL_ERROR (6.9.1).
    /// </summary>
    public bool TryConsume(int bytes)
    {
        if ((uint)bytes > (uint)Math.Max(_available, 0))
        {
            return false;
        }

        _available -= bytes;
        return true;
    }

    /// <summary>
    /// Adds a WINDOW_UPDATE increment. Returns false, changing nothing, when the window would exceed 2^31-1, a
    /// FLOW_CONTROL_ERROR (6.9.1) of the stream or connection the window belongs to.
    /// </summary>
    public bool TryCredit(int increment)
    {
        if (increment < 0 || (long)_available + increment > Http2Settings.MaxWindowSize)
        {
            return false;
        }

        _available += increment;
        return true;
    }

    /// <summary>
    /// Applies a new SETTINGS_INITIAL_WINDOW_SIZE to a stream window: adds the difference from the old size, which
    /// may make the window negative (6.9.2). Returns false on overflow past 2^31-1 (a FLOW_CONTROL_ERROR).
    /// </summary>
    public bool TryAdjust(int newSize)
    {
        long available = (long)_available + newSize - _size;
        if (newSize < 0 || available > Http2Settings.MaxWindowSize)
        {
            return false;
        }

        _available = (int)available;
        _size = newSize;
        return true;
    }

    /// <summary>
    /// Receive side: <paramref name="bytes"/> previously consumed have been handed on, so the peer may send them
    /// again. Returns true with the increment to send when the unannounced credit reaches half the window size; the
    /// window is credited by that increment at once.
    /// </summary>
    public bool Release(int bytes, out int windowUpdate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        _unannounced += bytes;
        int threshold = Math.Max(_size / 2, 1);
        if (_unannounced < threshold)
        {
            windowUpdate = 0;
            return false;
        }

        windowUpdate = Math.Min(_unannounced, Http2Settings.MaxWindowSize - _available);
        _available += windowUpdate;
        _unannounced -= windowUpdate;
        return windowUpdate > 0;
    }
}
