using System.Buffers;

namespace Proxy.Buffers;

/// <summary>
/// A memory pool of fixed-size blocks, shared by every pipe in the process (the Kestrel design); reusing blocks
/// keeps the steady state free of allocations, and what a burst needed goes back afterwards
/// (<see cref="TrimIdle"/>, <see cref="IdleMemoryTrimmer"/>).
/// </summary>
/// <remarks>
/// <para>
/// Blocks are ordinary 16 KiB arrays, one each, not pinned: the collector compacts what stays and returns the rest.
/// They were carved 32 at a time from pinned slabs, and after a burst the few blocks still held (thread caches,
/// live connections) kept their slabs, and the pinned heap's regions, resident: three bursts of 200 unread HTTP/2
/// streams left the process 15 MiB above idle after trimming and a full collection (13 MiB with one pinned array per
/// block), against 5 to 7 MiB with movable blocks (docs/benchmarks.md, "HTTP/2 slow readers"). Pinning bought nothing on Linux: a socket reads into a buffer when
/// the socket is ready, inside the call, and no code here keeps a pointer into a block across an await.
/// </para>
/// <para>
/// Blocks are array-backed on purpose: Pipelines.Sockets.Unofficial hands buffers to
/// <c>SocketAsyncEventArgs</c> through <c>MemoryMarshal.TryGetArray</c>.
/// </para>
/// </remarks>
public sealed class BlockMemoryPool : MemoryPool<byte>
{
    /// <summary>
    /// Size of every block; pipes ask for at most this much per segment, so it is also the most one
    /// socket read takes. 16 KiB (HAProxy's default buffer size) measured 0.43 of direct loopback TCP
    /// throughput against 0.20 with 4 KiB blocks, at the same CPU per byte as HAProxy.
    /// </summary>
    public const int BlockSize = 16 * 1024;

    // Idle blocks a thread keeps for itself before it hands half of them to the shared stack.
    private const int ThreadCacheSize = 16;

    // Idle blocks are reused last-in first-out: the block returned last is the one still in the CPU cache, so a
    // socket read or a stream's body lands in warm memory. (A FIFO queue hands out the coldest of up to 2,048
    // idle blocks every time, and every byte written to it then misses the cache.) Each thread keeps a few
    // of its own (socket threads rent and return blocks at every read and flush), the rest are shared under a lock.
    private readonly LifoPool<Block> _free;
    private long _allocatedBytes;
    private long _trimmedBytes;
    private volatile bool _disposed;

    /// <summary>The process-wide pool.</summary>
    /// <remarks>
    /// Keeps at most 2,048 idle blocks (32 MiB) in its shared stack, plus at most 16 per thread: a burst that
    /// needs more allocates them and lets the garbage collector have them back afterwards, so one spike does not
    /// pin memory forever.
    /// </remarks>
    public static new BlockMemoryPool Shared { get; } = new(maxRetainedBlocks: 2048);

    /// <summary>Creates a pool that keeps at most <paramref name="maxRetainedBlocks"/> idle blocks in its shared stack.</summary>
    public BlockMemoryPool(int maxRetainedBlocks)
    {
        _free = new LifoPool<Block>(maxRetainedBlocks, ThreadCacheSize);
    }

    public override int MaxBufferSize => BlockSize;

    /// <summary>Bytes of blocks allocated so far (a gauge for /metrics): the most the pool ever needed at once, plus what it re-made after trims.</summary>
    public long AllocatedBytes => Interlocked.Read(ref _allocatedBytes);

    /// <summary>Blocks currently idle in the shared stack (a thread's own few are not counted).</summary>
    public int IdleBlocks => _free.SharedCount;

    /// <summary>Bytes of idle blocks handed back to the garbage collector by <see cref="TrimIdle"/> so far (a counter for /metrics).</summary>
    public long TrimmedBytes => Interlocked.Read(ref _trimmedBytes);

    /// <summary>
    /// Lets go of the blocks that stayed idle in the shared stack since the previous call (what a burst left
    /// behind; the steady state did not touch them) and returns their bytes; the next collection has them
    /// (see <see cref="IdleMemoryTrimmer"/>).
    /// </summary>
    public long TrimIdle()
    {
        long bytes = (long)_free.TrimIdle() * BlockSize;
        Interlocked.Add(ref _trimmedBytes, bytes);
        return bytes;
    }

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            ThrowTooLarge(minBufferSize);
        }

        Block block = _free.TryRent() ?? AllocateBlock();
        block.Rented = true;
        return block;
    }

    private Block AllocateBlock()
    {
        // Uninitialized: every byte of a block is written before it is read (pipes hand out what was written).
        var array = GC.AllocateUninitializedArray<byte>(BlockSize);
        Interlocked.Add(ref _allocatedBytes, BlockSize);
        return new Block(this, array);
    }

    private void Return(Block block)
    {
        if (_disposed)
        {
            return; // let the GC have it
        }

        _free.Return(block);
    }

    protected override void Dispose(bool disposing) => _disposed = true;

    [System.Diagnostics.StackTraceHidden]
    private static void ThrowTooLarge(int size) =>
        throw new ArgumentOutOfRangeException(nameof(size), size, $"blocks are {BlockSize} bytes");

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly BlockMemoryPool _pool;

        public Block(BlockMemoryPool pool, byte[] array)
        {
            _pool = pool;
            Memory = array;
        }

        public bool Rented;

        public Memory<byte> Memory { get; }

        public void Dispose()
        {
            // Pipes dispose each segment once; a double dispose must not put a block in the queue twice.
            if (Rented)
            {
                Rented = false;
                _pool.Return(this);
            }
        }
    }
}
