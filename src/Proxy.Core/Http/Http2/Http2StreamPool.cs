using Proxy.Buffers;

namespace Proxy.Http.Http2;

/// <summary>
/// Process-wide pools of <see cref="Http2Stream"/> objects (with their bodies) and of the header lists streams
/// receive into, shared by every connection so that a stream costs no allocation in steady state. Both hand out
/// the object returned last on the calling thread first (<see cref="LifoPool{T}"/>): the one still in this core's
/// cache. Bounded: beyond <see cref="MaxRetained"/> idle objects, released ones are left to the GC, so a burst does
/// not pin its peak memory forever.
/// </summary>
internal static class Http2StreamPool
{
    /// <summary>
    /// Idle streams (and header lists) kept at most in the shared stacks. A load's worth, both sides counted:
    /// 16 connections of 100 streams are 1,600 downstream and 1,600 upstream streams, and when a burst ends they all
    /// come back at once. At 2,048 the pool dropped the excess and the next burst reallocated it (157 B per request
    /// under h2load; SteadyStateAllocationTests.Http2ThousandsOfStreams).
    /// </summary>
    public const int MaxRetained = 8192;

    // Per thread: a read batch starts and finishes dozens of streams; more than that goes to the shared stack.
    private const int ThreadCacheSize = 64;

    private static readonly LifoPool<Http2Stream> s_streams = new(MaxRetained, ThreadCacheSize);
    private static readonly LifoPool<Http2HeaderList> s_lists = new(MaxRetained, ThreadCacheSize);

    /// <summary>A stream object ready for <see cref="Http2Stream.Start"/>.</summary>
    public static Http2Stream Rent() => s_streams.TryRent() ?? new Http2Stream();

    /// <summary>Takes back a released, closed stream.</summary>
    public static void Return(Http2Stream stream)
    {
        if (stream.TryRecycle())
        {
            s_streams.Return(stream);
        }
    }

    /// <summary>
    /// A header list to decode the next block into (its content is whatever it held last: the decoder resets it).
    /// The list released last on this thread, so decoding writes to memory still in the cache.
    /// </summary>
    public static Http2HeaderList RentList() => s_lists.TryRent() ?? new Http2HeaderList();

    /// <summary>
    /// Drops the idle streams and header lists no stream needed since the previous call (what a burst left behind,
    /// see <see cref="LifoPool{T}.TrimIdle"/>); returns how many streams went. Called by <see cref="IdleMemoryTrimmer"/>.
    /// </summary>
    public static int TrimIdle()
    {
        s_lists.TrimIdle();
        return s_streams.TrimIdle();
    }

    /// <summary>Takes back a list nothing refers to any more.</summary>
    public static void ReturnList(Http2HeaderList list) => s_lists.Return(list);
}
