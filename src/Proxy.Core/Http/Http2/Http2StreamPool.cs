namespace Proxy.Http.Http2;

/// <summary>
/// Process-wide pool of <see cref="Http2Stream"/> objects (with their body buffers and header lists), shared by every
/// connection so that a stream costs no allocation in steady state. A LIFO stack: the stream released last is the
/// one whose memory is still in cache. Bounded: beyond <see cref="MaxRetained"/> idle streams, released ones are
/// left to the GC, so a burst does not pin its peak memory forever.
/// </summary>
internal static class Http2StreamPool
{
    /// <summary>
    /// Idle streams kept at most (about 5 KiB each with their header buffers). A load's worth, both sides counted:
    /// 16 connections of 100 streams are 1,600 downstream and 1,600 upstream streams, and when a burst ends they all
    /// come back at once. At 2,048 the pool dropped the excess and the next burst reallocated it (157 B per request
    /// under h2load; SteadyStateAllocationTests.Http2ThousandsOfStreams).
    /// </summary>
    public const int MaxRetained = 8192;

    private static readonly Lock s_lock = new();
    private static readonly Http2Stream?[] s_idle = new Http2Stream?[MaxRetained];
    private static int s_count;

    /// <summary>A stream object ready for <see cref="Http2Stream.Start"/>.</summary>
    public static Http2Stream Rent()
    {
        lock (s_lock)
        {
            if (s_count > 0)
            {
                Http2Stream stream = s_idle[--s_count]!;
                s_idle[s_count] = null;
                return stream;
            }
        }

        return new Http2Stream();
    }

    /// <summary>Takes back a released, closed stream.</summary>
    public static void Return(Http2Stream stream)
    {
        if (!stream.TryRecycle())
        {
            return;
        }

        lock (s_lock)
        {
            if (s_count < MaxRetained)
            {
                s_idle[s_count++] = stream;
            }
        }
    }
}
