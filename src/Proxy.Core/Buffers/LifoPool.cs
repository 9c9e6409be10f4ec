namespace Proxy.Buffers;

/// <summary>
/// A bounded pool of reusable objects handed out last-in first-out, with a small cache per thread in front of a
/// shared stack: the object returned last on this thread is the next one rented here, so it is still in this core's
/// cache. <see cref="BlockMemoryPool"/> keeps its blocks in one; so do HTTP/2 streams and async-method boxes.
/// </summary>
/// <remarks>
/// <para>
/// Why it matters: with thousands of HTTP/2 streams in flight, per-stream objects are touched once when a request
/// starts and again when its response arrives, a round trip later. An object taken from the bottom of a shared
/// stack, or one last used on the other core, costs a cache miss on every line the next user touches; measured as
/// most of the self time of stream start-up and header decoding in the h2load profile.
/// </para>
/// <para>
/// Objects are handed out as they were returned: the pool neither resets nor inspects them. Beyond
/// <c>maxShared</c> idle objects (plus the per-thread caches), returned ones are left to the garbage collector, so
/// a burst does not pin its peak forever.
/// </para>
/// </remarks>
internal sealed class LifoPool<T>
    where T : class
{
    private readonly Lock _lock = new();

    // Arrays of a struct rather than of T: a store into a T[] in shared generic code goes through the covariance
    // check (StelemRef), which reads the stored object's type, a cache miss of its own (3 % of the h2load profile).
    private readonly Slot[] _shared;
    private int _sharedCount; // guarded by _lock
    private int _lowWater; // guarded by _lock: the fewest idle shared objects since the last TrimIdle
    private readonly int _threadCacheSize;

    [ThreadStatic]
    private static ThreadCache? t_cache;

    /// <summary>A pool keeping at most <paramref name="maxShared"/> idle objects shared, and <paramref name="threadCacheSize"/> per thread.</summary>
    public LifoPool(int maxShared, int threadCacheSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCacheSize, 2);
        _shared = new Slot[maxShared];
        _threadCacheSize = threadCacheSize;
    }

    /// <summary>Idle objects in the shared stack (a thread's own few are not counted).</summary>
    public int SharedCount => Volatile.Read(ref _sharedCount);

    /// <summary>The object returned last on this thread, else the one returned last to the shared stack, else null.</summary>
    public T? TryRent()
    {
        ThreadCache? cache = t_cache;
        if (cache is not null && cache.Pool == this && cache.Count > 0)
        {
            ref Slot slot = ref cache.Items[--cache.Count];
            T item = slot.Item!;
            slot.Item = null;
            return item;
        }

        if (cache is null || cache.Pool != this)
        {
            lock (_lock)
            {
                return _sharedCount == 0 ? null : TakeSharedLocked();
            }
        }

        // This thread's cache is empty (it rents more than it returns: a read loop that starts the streams another
        // thread finishes): refill half of it from the shared stack under one lock, not one lock per object.
        lock (_lock)
        {
            if (_sharedCount == 0)
            {
                return null;
            }

            for (int i = Math.Min(cache.Items.Length / 2, _sharedCount - 1); i > 0; i--)
            {
                cache.Items[cache.Count++].Item = TakeSharedLocked();
            }

            return TakeSharedLocked();
        }
    }

    private T TakeSharedLocked()
    {
        ref Slot slot = ref _shared[--_sharedCount];
        T item = slot.Item!;
        slot.Item = null;
        if (_sharedCount < _lowWater)
        {
            _lowWater = _sharedCount;
        }

        return item;
    }

    /// <summary>
    /// Drops the shared objects that stayed idle since the previous call (the bottom of the stack, below the fewest
    /// idle at any moment in between) and returns how many: the steady state never reached them, so they are what
    /// a past burst left behind. The garbage collector has them once nothing else holds them.
    /// </summary>
    public int TrimIdle()
    {
        lock (_lock)
        {
            int idle = Math.Min(_lowWater, _sharedCount);
            if (idle > 0)
            {
                Array.Copy(_shared, idle, _shared, 0, _sharedCount - idle);
                Array.Clear(_shared, _sharedCount - idle, idle);
                _sharedCount -= idle;
            }

            _lowWater = _sharedCount;
            return idle;
        }
    }

    /// <summary>Keeps <paramref name="item"/> for the next <see cref="TryRent"/> on this thread.</summary>
    public void Return(T item)
    {
        ThreadCache cache = t_cache ??= new ThreadCache(this, _threadCacheSize);
        if (cache.Pool != this)
        {
            // The thread's cache belongs to another pool of the same type (tests make their own): share this one.
            ReturnShared(item);
            return;
        }

        if (cache.Count == cache.Items.Length)
        {
            // Full: the older half goes to the shared stack, where other threads find it.
            int half = cache.Items.Length / 2;
            lock (_lock)
            {
                for (int i = 0; i < half && _sharedCount < _shared.Length; i++)
                {
                    _shared[_sharedCount++].Item = cache.Items[i].Item;
                }
            }

            Array.Copy(cache.Items, half, cache.Items, 0, cache.Items.Length - half);
            Array.Clear(cache.Items, cache.Items.Length - half, half);
            cache.Count = cache.Items.Length - half;
        }

        cache.Items[cache.Count++].Item = item;
    }

    /// <summary>Keeps <paramref name="item"/> in the shared stack, for any thread (new objects made in bulk).</summary>
    public void ReturnShared(T item)
    {
        lock (_lock)
        {
            if (_sharedCount < _shared.Length)
            {
                _shared[_sharedCount++].Item = item; // beyond the bound, the GC has it
            }
        }
    }

    private struct Slot
    {
        public T? Item;
    }

    /// <summary>One thread's idle objects of one pool (the first pool of this type the thread returned to).</summary>
    private sealed class ThreadCache(LifoPool<T> pool, int size)
    {
        public readonly LifoPool<T> Pool = pool;
        public readonly Slot[] Items = new Slot[size];
        public int Count;
    }
}
