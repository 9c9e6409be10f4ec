using System.Diagnostics;
using Proxy.Buffers;
using Proxy.Observability.Metrics;

namespace Proxy.Host;

/// <summary>Process-level gauges: memory, pooled buffers, uptime.</summary>
public static class ProcessMetrics
{
    /// <summary>
    /// When the process started, as a <see cref="Stopwatch"/> timestamp. The kernel's start time (wall clock) is read
    /// once, when the metrics are registered at start, and turned into a monotonic origin: a static field initialised
    /// on first use would count from the first scrape instead, and a clock step must not move the uptime.
    /// </summary>
    private static long s_startTimestamp;

    public static void Register(MetricsRegistry registry)
    {
        if (Volatile.Read(ref s_startTimestamp) == 0)
        {
            Volatile.Write(ref s_startTimestamp, StartTimestamp());
        }

        registry.CallbackGauge("process_resident_memory_bytes", "Resident set size of the process.", static () => Environment.WorkingSet);
        registry.CallbackGauge("proxy_gc_heap_bytes", "Managed heap size.", static () => GC.GetTotalMemory(false));
        registry.CallbackGauge("proxy_gc_allocated_bytes", "Bytes allocated on the managed heap since the start (allocations per request or connection are this over a load run).", static () => GC.GetTotalAllocatedBytes(precise: true));
        registry.CallbackGauge("proxy_gc_collections", "Garbage collections since the start (all generations).", static () => GC.CollectionCount(0));
        registry.CallbackGauge("proxy_buffer_pool_allocated_bytes", "Bytes of buffer blocks the block pool allocated (its peak need, plus what it re-made after trims).", static () => BlockMemoryPool.Shared.AllocatedBytes);
        registry.CallbackGauge("proxy_buffer_pool_trimmed_bytes", "Idle pool blocks handed back after a burst (blocks unused for a whole trim period).", static () => BlockMemoryPool.Shared.TrimmedBytes);
        registry.CallbackGauge("proxy_gc_induced_collections", "Collections the idle trimmer ran after a burst, to return its memory.", static () => IdleMemoryTrimmer.InducedCollections);
        registry.CallbackGauge("proxy_uptime_seconds", "Seconds since the proxy started.", static () => Stopwatch.GetElapsedTime(Volatile.Read(ref s_startTimestamp)).TotalSeconds);
    }

    /// <summary>Seconds since the process started (the <c>proxy_uptime_seconds</c> gauge), for other reports of it.</summary>
    public static double UptimeSeconds => Stopwatch.GetElapsedTime(Volatile.Read(ref s_startTimestamp) is var start and not 0 ? start : StartTimestamp()).TotalSeconds;

    private static long StartTimestamp()
    {
        TimeSpan running;
        try
        {
            using var process = Process.GetCurrentProcess();
            running = DateTime.Now - process.StartTime;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            running = TimeSpan.Zero; // no /proc: count from now, which is the start of the host
        }

        if (running < TimeSpan.Zero)
        {
            running = TimeSpan.Zero;
        }

        return Stopwatch.GetTimestamp() - (long)(running.TotalSeconds * Stopwatch.Frequency);
    }
}
