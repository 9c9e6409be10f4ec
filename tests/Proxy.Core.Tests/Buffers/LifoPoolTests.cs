using Proxy.Buffers;
using Xunit;

namespace Proxy.Core.Tests.Buffers;

public class LifoPoolTests
{
    private sealed class Item;

    [Fact]
    public void TheObjectReturnedLastIsTheNextRented()
    {
        var pool = new LifoPool<Item>(maxShared: 16, threadCacheSize: 4);
        var first = new Item();
        var second = new Item();
        pool.Return(first);
        pool.Return(second);

        Assert.Same(second, pool.TryRent());
        Assert.Same(first, pool.TryRent());
        Assert.Null(pool.TryRent());
    }

    [Fact]
    public void ObjectsReturnedOnOneThreadAreRentedOnAnother()
    {
        var pool = new LifoPool<Item>(maxShared: 64, threadCacheSize: 4);
        var items = Enumerable.Range(0, 20).Select(_ => new Item()).ToList();

        // Returned on a thread of its own: past that thread's few, they reach the shared stack.
        var returner = new Thread(() => items.ForEach(pool.Return));
        returner.Start();
        returner.Join();

        var rented = new List<Item>();
        while (pool.TryRent() is { } item)
        {
            rented.Add(item);
        }

        Assert.NotEmpty(rented);
        Assert.True(rented.Count >= items.Count - 4, $"{rented.Count} of {items.Count} reached this thread");
        Assert.Equal(rented.Count, rented.Distinct().Count());
        Assert.All(rented, item => Assert.Contains(item, items));
    }

    [Fact]
    public void TrimIdle_DropsWhatStayedIdleSinceTheLastTrim_KeepsWhatWasInUse()
    {
        var pool = new LifoPool<Item>(maxShared: 16, threadCacheSize: 4);
        var items = Enumerable.Range(0, 10).Select(_ => new Item()).ToList();
        items.ForEach(pool.ReturnShared);
        Assert.Equal(0, pool.TrimIdle()); // the first call starts the period: nothing was watched yet

        // The steady state uses two of the ten at a time.
        var first = pool.TryRent()!;
        var second = pool.TryRent()!;
        pool.ReturnShared(second);
        pool.ReturnShared(first);

        Assert.Equal(8, pool.TrimIdle());
        Assert.Equal(2, pool.SharedCount);
        var kept = new[] { pool.TryRent(), pool.TryRent() };
        Assert.Contains(first, kept);
        Assert.Contains(second, kept);
        pool.ReturnShared(kept[1]!);
        pool.ReturnShared(kept[0]!);

        // A period in which nothing was rented: the rest goes too.
        Assert.Equal(0, pool.TrimIdle()); // the rents above were in this period
        Assert.Equal(2, pool.TrimIdle());
        Assert.Equal(0, pool.SharedCount);
    }

    [Fact]
    public void TheSharedStackStaysBounded()
    {
        var pool = new LifoPool<Item>(maxShared: 8, threadCacheSize: 4);
        var returner = new Thread(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                pool.Return(new Item());
            }
        });
        returner.Start();
        returner.Join();

        Assert.Equal(8, pool.SharedCount);
    }
}
