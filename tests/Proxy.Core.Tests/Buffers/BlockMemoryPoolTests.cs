using System.Buffers;
using System.Runtime.InteropServices;
using Proxy.Buffers;
using Xunit;

namespace Proxy.Core.Tests.Buffers;

public class BlockMemoryPoolTests
{
    [Fact]
    public void TheBlockReturnedLastIsTheNextRented()
    {
        // Last in, first out: the block just returned is the one still in the CPU cache.
        var pool = new BlockMemoryPool(maxRetainedBlocks: 64);
        IMemoryOwner<byte> first = pool.Rent();
        IMemoryOwner<byte> second = pool.Rent();
        first.Dispose();
        second.Dispose();

        using IMemoryOwner<byte> again = pool.Rent();
        Assert.True(SameBlock(second, again));
        using IMemoryOwner<byte> then = pool.Rent();
        Assert.True(SameBlock(first, then));
    }

    [Fact]
    public void BlocksReturnedOnOneThreadAreRentedOnAnother()
    {
        var pool = new BlockMemoryPool(maxRetainedBlocks: 256);
        var blocks = new List<IMemoryOwner<byte>>();
        for (int i = 0; i < 100; i++)
        {
            blocks.Add(pool.Rent());
        }

        long allocated = pool.AllocatedBytes;

        // Returned on a thread of its own: past that thread's few, they reach the shared stack.
        var returner = new Thread(() => blocks.ForEach(b => b.Dispose()));
        returner.Start();
        returner.Join();
        Assert.True(pool.IdleBlocks >= 100 - 16);

        var again = new List<IMemoryOwner<byte>>();
        for (int i = 0; i < 100 - 16; i++)
        {
            again.Add(pool.Rent());
        }

        Assert.Equal(allocated, pool.AllocatedBytes); // reused, not allocated again
        again.ForEach(b => b.Dispose());
    }

    [Fact]
    public void TrimIdle_LetsGoOfBlocksIdleForAWholePeriod()
    {
        var pool = new BlockMemoryPool(maxRetainedBlocks: 256);
        var blocks = Enumerable.Range(0, 64).Select(_ => pool.Rent()).ToList();
        var returner = new Thread(() => blocks.ForEach(b => b.Dispose()));
        returner.Start();
        returner.Join();
        int idle = pool.IdleBlocks;
        Assert.True(idle >= 64 - 16);

        Assert.Equal(0, pool.TrimIdle()); // starts the first period
        Assert.Equal(idle * (long)BlockMemoryPool.BlockSize, pool.TrimIdle());
        Assert.Equal(0, pool.IdleBlocks);
        Assert.Equal(idle * (long)BlockMemoryPool.BlockSize, pool.TrimmedBytes);
    }

    [Fact]
    public void ADoubleDisposeReturnsTheBlockOnce()
    {
        var pool = new BlockMemoryPool(maxRetainedBlocks: 64);
        IMemoryOwner<byte> block = pool.Rent();
        block.Dispose();
        block.Dispose();

        using IMemoryOwner<byte> a = pool.Rent();
        using IMemoryOwner<byte> b = pool.Rent();
        Assert.False(SameBlock(a, b));
    }

    [Fact]
    public void IdleBlocksAreBoundedAndTheRestLeftToTheCollector()
    {
        var pool = new BlockMemoryPool(maxRetainedBlocks: 40);
        var blocks = new List<IMemoryOwner<byte>>();
        for (int i = 0; i < 200; i++)
        {
            blocks.Add(pool.Rent());
        }

        var returner = new Thread(() => blocks.ForEach(b => b.Dispose()));
        returner.Start();
        returner.Join();
        Assert.Equal(40, pool.IdleBlocks);
    }

    private static bool SameBlock(IMemoryOwner<byte> a, IMemoryOwner<byte> b)
    {
        Assert.True(MemoryMarshal.TryGetArray<byte>(a.Memory, out var x));
        Assert.True(MemoryMarshal.TryGetArray<byte>(b.Memory, out var y));
        return ReferenceEquals(x.Array, y.Array) && x.Offset == y.Offset;
    }
}
