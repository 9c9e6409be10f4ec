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
