using Proxy.Http.Http2;

namespace Proxy.Buffers;

/// <summary>
/// Gives memory back after a burst. Every <see cref="Period"/> it lets go of the pool blocks that stayed idle for the
/// whole period (<see cref="BlockMemoryPool.TrimIdle"/>), and when the process has gone quiet (it allocated
/// little since the last look) with enough garbage, dropped blocks or closed connections behind it, runs one full,
/// compacting collection that returns the freed memory to the operating system.
/// </summary>
/// <remarks>
/// Why a collection is induced: the proxy allocates nothing per request, so an idle or steadily loaded process never
/// fills a gen0 budget, and the memory a burst left (its connections' objects, the blocks it needed)
/// would stay resident until the next burst; measured, three bursts of 200 unread HTTP/2 streams left the process
/// 18 MiB above idle a minute later. Under load the process is not quiet and nothing is induced; an induced collection of the
/// proxy's small heap takes a few milliseconds. <c>GCConserveMemory</c> and a smaller gen0 budget did not help
/// (no collection runs to apply them); docs/benchmarks.md, "HTTP/2 slow readers", has the numbers.
/// </remarks>
public static class IdleMemoryTrimmer
{
    /// <summary>How often idle blocks are looked at: a block unused this long is not part of the steady state.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    // Allocated in one period below this, the process is quiet: a burst has ended. A scrape of /metrics allocates
    // about 60 KiB (at 256 KiB, scrapes every 3 s kept an idle process from ever looking quiet); connections
    // opening and closing under load exceed this in seconds.
    private const long QuietAllocationBytes = 1024 * 1024;

    // Garbage plus dropped blocks worth a collection: below this, the resident memory it would return is noise.
    private const long CollectWorthBytes = 4 * 1024 * 1024;

    // What an idle HTTP/2 stream holds with its header lists and body state, roughly: only to weigh a collection.
    private const long StreamBytes = 4 * 1024;

    // What an idle keep-alive connection keeps alive, roughly (docs/benchmarks.md, "Memory per idle keep-alive
    // connection"): only to weigh a collection once connections have closed.
    private const long ConnectionBytes = 4 * 1024;

    // What a pooled socket sender holds (a SocketAsyncEventArgs and its buffer list): only to weigh a collection.
    private const long SenderBytes = 512;

    private static Timer? s_timer;
    private static long s_allocatedAtLastTick;
    private static long s_allocatedAtLastCollection;
    private static int s_collectionsAtLastTick;
    private static long s_droppedSinceCollection;
    private static long s_endedAtLastTick;
    private static long s_induced;

    /// <summary>Collections this trimmer induced (a counter for /metrics).</summary>
    public static long InducedCollections => Interlocked.Read(ref s_induced);

    /// <summary>Starts the periodic trim for the process (once; later calls do nothing).</summary>
    public static void Start()
    {
        var timer = new Timer(static _ => Tick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref s_timer, timer, null) is not null)
        {
            timer.Dispose();
            return;
        }

        s_allocatedAtLastTick = GC.GetTotalAllocatedBytes(precise: false);
        s_allocatedAtLastCollection = s_allocatedAtLastTick;
        s_endedAtLastTick = Transport.SocketPipe.EndedConnections;
        s_collectionsAtLastTick = GC.CollectionCount(0);
        timer.Change(Period, Period);
    }

    private static void Tick()
    {
        s_droppedSinceCollection += BlockMemoryPool.Shared.TrimIdle() + (long)Http2StreamPool.TrimIdle() * StreamBytes
            + (long)Transport.SocketSenderPool.TrimIdle() * SenderBytes;

        // Connections that closed left their objects behind as garbage, allocated before the last collection: 10,000
        // idle connections collected while open (the process was quiet) and closed afterwards left 50 MiB that no
        // allocation would ever collect (docs/benchmarks.md, "Memory per idle keep-alive connection").
        long ended = Transport.SocketPipe.EndedConnections;
        s_droppedSinceCollection += (ended - s_endedAtLastTick) * ConnectionBytes;
        s_endedAtLastTick = ended;
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        int collections = GC.CollectionCount(0);
        if (collections != s_collectionsAtLastTick)
        {
            // The runtime collected on its own since the last look: count garbage from there.
            s_allocatedAtLastCollection = s_allocatedAtLastTick;
            s_collectionsAtLastTick = collections;
        }

        bool quiet = allocated - s_allocatedAtLastTick < QuietAllocationBytes;
        s_allocatedAtLastTick = allocated;
        if (quiet && allocated - s_allocatedAtLastCollection + s_droppedSinceCollection >= CollectWorthBytes)
        {
            // Aggressive: compact and decommit the freed regions, so the resident size falls, not just the heap.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            Interlocked.Increment(ref s_induced);
            s_allocatedAtLastCollection = GC.GetTotalAllocatedBytes(precise: false);
            s_allocatedAtLastTick = s_allocatedAtLastCollection;
            s_collectionsAtLastTick = GC.CollectionCount(0);
            s_droppedSinceCollection = 0;
        }
    }
}
