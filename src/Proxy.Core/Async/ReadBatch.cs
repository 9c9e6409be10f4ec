namespace Proxy.Async;

/// <summary>
/// Runs the work a connection's read loop wakes up at the end of the read batch, on the read loop's own thread,
/// instead of handing each item to the thread pool: the event-loop order of nginx and HAProxy (read everything that
/// arrived, run what it made ready, then write).
/// </summary>
/// <remarks>
/// <para>
/// An HTTP/2 read loop that processes a batch of frames wakes one consumer per response (its header signal or body
/// pipe) and marks connections to flush. Queued to the thread pool, each wake-up is a hop to a worker thread, and
/// idle workers spin (<c>sched_yield</c>) waiting for the next: measured as the largest single item of the HTTP/2
/// profile. Run here, a batch of responses is relayed and the touched connections flushed once each, all on the
/// socket thread that read them.
/// </para>
/// <para>
/// Only items scheduled while a batch is open on the current thread are deferred; anything else (a timer, a
/// forwarder on a pool thread) goes to the thread pool as before. Everything deferred runs before the batch
/// closes, also when the read loop ends with an exception, so no waiter is left behind. Items must not block:
/// they run on a socket thread (DESIGN.md, "Scheduling"). A batch opened while another is open on the same thread
/// (a read loop resumed inline by the work of another) joins the outer one.
/// </para>
/// </remarks>
public static class ReadBatch
{
    [ThreadStatic]
    private static Queue<IThreadPoolWorkItem>? t_deferred;

    [ThreadStatic]
    private static bool t_open;

    [ThreadStatic]
    private static bool t_manyEvents;

    /// <summary>
    /// Opens a batch on this thread; false when one is already open (the caller must then not close it).
    /// <paramref name="manyEvents"/>: the batch processes many events at once (an HTTP/2 read loop's frames), so what
    /// they ask to flush is gathered by the batch itself; false for the one continuation a socket read resumes.
    /// </summary>
    public static bool Open(bool manyEvents = true)
    {
        if (t_open)
        {
            return false;
        }

        t_deferred ??= new Queue<IThreadPoolWorkItem>(64);
        t_open = true;
        t_manyEvents = manyEvents;
        return true;
    }

    /// <summary>True while a batch of many events (see <see cref="Open"/>) is open on this thread.</summary>
    public static bool ManyEvents => t_open && t_manyEvents;

    /// <summary>Runs what was deferred, including what that work defers in turn, then closes the batch.</summary>
    public static void Close()
    {
        Queue<IThreadPoolWorkItem> deferred = t_deferred!;
        try
        {
            while (deferred.TryDequeue(out IThreadPoolWorkItem? item))
            {
                item.Execute();
            }
        }
        finally
        {
            t_open = false;

            // An item that threw (a bug: on the thread pool it would end the process) leaves the rest to the pool.
            while (deferred.TryDequeue(out IThreadPoolWorkItem? item))
            {
                ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false);
            }
        }
    }

    /// <summary>Defers <paramref name="item"/> to the end of the batch open on this thread, or queues it to the thread pool.</summary>
    public static void Schedule(IThreadPoolWorkItem item)
    {
        if (t_open)
        {
            t_deferred!.Enqueue(item);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false);
        }
    }
}
