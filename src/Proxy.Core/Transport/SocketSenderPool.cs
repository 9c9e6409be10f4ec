using Proxy.Buffers;

namespace Proxy.Transport;

/// <summary>
/// The <see cref="SocketSender"/>s of every socket, rented for one send and returned when it completes (Kestrel's
/// <c>SocketSenderPool</c>): a connection waiting for its next request keeps none. A sender is a
/// <c>SocketAsyncEventArgs</c> with its buffer list, about 450 bytes, which every idle keep-alive connection used to
/// keep (issue 18, docs/benchmarks.md "Memory per idle keep-alive connection"); the sends in flight at once need only a
/// few, and reusing them keeps the steady state free of allocations.
/// </summary>
internal static class SocketSenderPool
{
    // More senders than sends in flight at once are rarely needed: two socket threads, each with a few sends pending
    // on full socket buffers. What a burst needed beyond this goes to the collector.
    private const int MaxShared = 256;

    private static readonly LifoPool<SocketSender> s_pool = new(MaxShared, threadCacheSize: 8);

    public static SocketSender Rent() => s_pool.TryRent() ?? new SocketSender();

    /// <summary>Takes back a sender whose send completed; it drops its buffers first, so it keeps no pool block alive.</summary>
    public static void Return(SocketSender sender)
    {
        sender.Reset();
        s_pool.Return(sender);
    }

    /// <summary>Lets go of the senders that stayed idle since the last call (see <see cref="IdleMemoryTrimmer"/>).</summary>
    public static int TrimIdle() => s_pool.TrimIdle();
}
